"""`oneenglish payments simulate` plays Stripe's part against a running API: the order it names
is paid (and its learner enrolled) by the signed event the command sends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from oneenglish.settings import Settings
from tests.factories import TestUser
from tests.payments.conftest import checkout, enrollments_of, order_status
from tests.processes import ApiProcess, run_cli


async def test_simulate_pays_the_order_through_the_running_api(
    app: FastAPI,
    migrated: Settings,
    client: httpx.AsyncClient,
    learner: TestUser,
    paid_course: dict[str, Any],
) -> None:
    order = (await checkout(client, learner, paid_course["id"]))["order"]
    api = ApiProcess(migrated)
    api.start()
    try:
        await api.wait_ready()
        command = run_cli(migrated, "payments", "simulate", order["id"], "--api", api.url)
        output, _ = await asyncio.to_thread(command.communicate, timeout=120)
    finally:
        api.stop()

    assert command.returncode == 0, output.decode()
    assert b"paid_enrolled" in output
    assert await order_status(app, order["id"]) == "paid"
    assert await enrollments_of(app, learner, paid_course["id"]) == 1


async def test_simulate_refuses_an_unknown_order(migrated: Settings) -> None:
    command = run_cli(migrated, "payments", "simulate", "00000000-0000-4000-8000-000000000000")
    output, _ = await asyncio.to_thread(command.communicate, timeout=120)

    assert command.returncode == 1
    assert b"no order" in output
