from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import TestUser, logged_in


@pytest.fixture
async def learner(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client)


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> TestUser:
    return await logged_in(app, client, roles=("admin",))
