"""Liveness and readiness; readiness follows real database processes being killed and restarted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack


async def test_liveness_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_both_databases(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["postgresql"]["ok"] is True
    assert body["checks"]["mongodb"]["ok"] is True


# -- fault injection: the fault stack, so killing it disturbs no other test ----------------


@pytest.fixture(scope="module")
async def fault_client(
    fault_stack: Stack, fault_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(fault_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        # A generous client timeout only guards against a hang; readiness bounds itself.
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=30
        ) as client:
            yield client


async def wait_until_ready(client: httpx.AsyncClient, attempts: int = 120) -> httpx.Response:
    for _ in range(attempts):
        response = await client.get("/health/ready")
        if response.status_code == 200:
            return response
        await asyncio.sleep(0.25)
    return response


@pytest.mark.faults
async def test_readiness_names_mongodb_while_ferretdb_is_down(
    fault_stack: Stack, fault_client: httpx.AsyncClient
) -> None:
    assert (await wait_until_ready(fault_client)).status_code == 200

    fault_stack.ferretdb.kill()
    response = await fault_client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["failed"] == ["mongodb"]
    assert "MongoDB" in body["detail"]
    assert body["checks"]["postgresql"]["ok"] is True
    assert (await fault_client.get("/health")).status_code == 200

    fault_stack.ferretdb.start()
    assert (await wait_until_ready(fault_client)).status_code == 200


@pytest.mark.faults
async def test_readiness_names_postgresql_while_it_is_down(
    fault_stack: Stack, fault_client: httpx.AsyncClient
) -> None:
    assert (await wait_until_ready(fault_client)).status_code == 200

    fault_stack.postgres.kill()
    response = await fault_client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    # FerretDB stores its documents in this PostgreSQL, so MongoDB may be named too.
    assert "postgresql" in body["failed"]
    assert "PostgreSQL" in body["detail"]
    assert (await fault_client.get("/health")).status_code == 200

    fault_stack.postgres.start()
    assert (await wait_until_ready(fault_client)).status_code == 200
