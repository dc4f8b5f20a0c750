"""Several processes recovering at once never apply a step twice: each step records how often
it was applied, and every one must say exactly once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.db import postgres
from oneenglish.settings import Settings
from tests.helpers import pg_scalar
from tests.processes import run_cli

pytestmark = pytest.mark.faults

EVENTS = 3000


async def test_two_workers_recovering_together_apply_each_step_once(
    fault_app: FastAPI, fault_client: httpx.AsyncClient, fault_settings: Settings
) -> None:
    # Events recorded by "another process": a session outside the app, so nothing kicks the
    # app's relay and the two workers find them all waiting.
    engine = postgres.create_engine(fault_settings)
    try:
        async with postgres.create_sessionmaker(engine)() as db:
            for n in range(EVENTS):
                audit.record(db, Actor.system(), "test.event", "probe", f"probe-{n}")
            await db.commit()
    finally:
        await engine.dispose()

    workers = [run_cli(fault_settings, "worker", "--once") for _ in range(2)]
    outputs = await asyncio.gather(*(asyncio.to_thread(w.communicate, None, 120) for w in workers))
    for worker, (out, _) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, out.decode()[-2000:]

    assert (
        await pg_scalar(
            fault_app,
            "SELECT count(*) FROM sagas WHERE kind = 'deliver_audit' AND status = 'completed'",
        )
        == EVENTS
    )
    assert (
        await pg_scalar(
            fault_app,
            "SELECT count(*) FROM sagas WHERE (steps->'deliver'->>'applied')::int <> 1",
        )
        == 0
    )
    assert (
        await fault_app.state.mongo_db.audit_logs.count_documents({"action": "test.event"})
        == EVENTS
    )
    # Both workers took part (otherwise this proved nothing about concurrency); the test's own
    # API process relays in the background too, so three processes shared the work.
    advanced = [int(out.decode().split("advanced ")[1].split()[0]) for out, _ in outputs]
    assert all(n > 0 for n in advanced), advanced
