"""The phone and date of birth of a profile: validated, and a refusal changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import TestUser


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "call me maybe"},
        {"phone": "+" + "1" * 40},
        {"date_of_birth": "1850-01-01"},
        {"date_of_birth": "not a date"},
        {"phone": "+34 611 222 333", "date_of_birth": "2999-01-01"},
    ],
)
async def test_a_bad_phone_or_date_of_birth_is_a_422_that_changes_nothing(
    client: httpx.AsyncClient, alice: TestUser, body: dict[str, str]
) -> None:
    response = await client.patch("/api/me/profile", headers=alice.headers, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    profile = (await client.get("/api/me/profile", headers=alice.headers)).json()
    assert (profile["phone"], profile["date_of_birth"]) == ("", None)


async def test_a_phone_can_be_cleared(client: httpx.AsyncClient, alice: TestUser) -> None:
    await client.patch("/api/me/profile", headers=alice.headers, json={"phone": "+44 20 7946 0000"})
    cleared = await client.patch("/api/me/profile", headers=alice.headers, json={"phone": ""})
    assert cleared.status_code == 200
    assert cleared.json()["phone"] == ""
