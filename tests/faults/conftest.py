from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack
from tests.conftest import reset_databases


@pytest.fixture(autouse=True)
def _fault_stack_is_up(fault_stack: Stack) -> None:
    """Whatever a previous test killed is running again before the next one starts."""
    fault_stack.up()


@pytest.fixture(scope="module")
async def fault_app(fault_stack: Stack, fault_settings: Settings) -> AsyncIterator[FastAPI]:
    fault_stack.up()
    application = create_app(fault_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def fault_client(fault_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await reset_databases(fault_app)
    transport = httpx.ASGITransport(app=fault_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
        yield client
