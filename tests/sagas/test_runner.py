"""The saga runner: leases keep recovery away from a request's saga; a failing step is retried
with backoff; rows another relay holds are skipped, not waited for; a compensating workflow
compensates after its forward attempts run out; a step that fails on replay never stops the
relay; a relay pass holds no lock from one saga to the next; payloads stored in an older shape
still load."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.sagas.log import enqueue
from oneenglish.sagas.workflow import (
    OnFailure,
    SagaKind,
    SagaPayload,
    Step,
    StepContext,
    Workflow,
    register,
)
from tests.factories import logged_in
from tests.helpers import eventually, pg_scalar

FAR = 3600.0  # a lease the background relay of the test app never sees expire


class Probe(SagaPayload):
    key: str


runs: Counter[str] = Counter()
undone: Counter[str] = Counter()
failing: set[str] = set()
blocking: dict[str, asyncio.Event] = {}


async def _forward(context: StepContext[Probe]) -> None:
    runs[context.payload.key] += 1
    if context.payload.key in blocking:
        await blocking[context.payload.key].wait()
    if context.payload.key in failing:
        raise RuntimeError(f"step fails for {context.payload.key}")


async def _backward(context: StepContext[Probe]) -> None:
    undone[context.payload.key] += 1


async def _undo_row(db: AsyncSession, context: StepContext[Probe]) -> None:
    undone[f"row:{context.payload.key}"] += 1


RETRYING = SagaKind("test_retrying", Probe)
COMPENSATING = SagaKind("test_compensating", Probe)
register(Workflow(RETRYING, (Step("probe", _forward),), on_failure=OnFailure.RETRY))
register(
    Workflow(
        COMPENSATING,
        (Step("probe", _forward, _backward),),
        on_failure=OnFailure.COMPENSATE,
        undo=_undo_row,
        max_forward_attempts=2,
    )
)


async def pending(
    app: FastAPI,
    kind: SagaKind[Probe],
    key: str,
    user_ids: tuple[uuid.UUID, ...] = (),
    lease: float = FAR,
) -> uuid.UUID:
    async with app.state.sessionmaker() as db:
        saga = enqueue(db, kind, Probe(key=key), lease_seconds=lease, user_ids=user_ids)
        await db.commit()
    return saga.id


async def due_now(app: FastAPI, saga_id: uuid.UUID) -> None:
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE sagas SET next_attempt_at = now() WHERE id = :id"), {"id": saga_id}
        )


async def run_due(app: FastAPI, saga_id: uuid.UUID) -> None:
    """Make the saga due and run it through recovery. The test app's background relay may
    take it first (both skip rows the other holds): then wait until that run has finished."""
    before = await state(app, saga_id)
    await due_now(app, saga_id)
    await app.state.saga_runner.recover_once()

    async def ran() -> bool:
        now = await state(app, saga_id)
        return (now["attempts"], now["status"]) != (before["attempts"], before["status"])

    assert await eventually(ran, attempts=100)


async def state(app: FastAPI, saga_id: uuid.UUID) -> dict[str, Any]:
    async with app.state.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT status, attempts, last_error, "
                    "extract(epoch FROM next_attempt_at - now()) AS wait FROM sagas WHERE id = :id"
                ),
                {"id": saga_id},
            )
        ).one()
    return dict(row._mapping)


@pytest.fixture
def key() -> str:
    return uuid.uuid4().hex


async def test_a_saga_is_left_to_its_request_until_its_lease_expires(
    app: FastAPI, key: str
) -> None:
    saga_id = await pending(app, RETRYING, key)
    await app.state.saga_runner.recover_once()
    assert runs[key] == 0
    await due_now(app, saga_id)
    await app.state.saga_runner.recover_once()
    assert runs[key] == 1
    assert (await state(app, saga_id))["status"] == "completed"


async def test_a_failing_step_is_retried_later_with_a_growing_backoff(
    app: FastAPI, key: str
) -> None:
    failing.add(key)
    saga_id = await pending(app, RETRYING, key)
    waits = []
    for attempt in (1, 2):
        await run_due(app, saga_id)
        current = await state(app, saga_id)
        assert current["status"] == "pending"
        assert current["attempts"] == attempt
        assert "step fails" in str(current["last_error"])
        waits.append(float(current["wait"]))
    # 2^n seconds with up to 25 % jitter below it: about 2 s, then about 4 s.
    assert 1.4 < waits[0] <= 2.0
    assert 2.9 < waits[1] <= 4.0
    failing.discard(key)
    await run_due(app, saga_id)
    assert (await state(app, saga_id))["status"] == "completed"


async def test_a_saga_another_relay_holds_is_skipped_not_waited_for(app: FastAPI, key: str) -> None:
    held = await pending(app, RETRYING, key)
    free = await pending(app, RETRYING, f"{key}-free")
    async with app.state.engine.connect() as other_relay:
        await other_relay.execute(
            text("SELECT id FROM sagas WHERE id = :id FOR UPDATE"), {"id": held}
        )
        await app.state.saga_runner.recover_once(ignore_lease=True)  # returns: SKIP LOCKED
        assert runs[key] == 0
        assert runs[f"{key}-free"] == 1
        await other_relay.rollback()
    assert (await state(app, held))["status"] == "pending"
    assert (await state(app, free))["status"] == "completed"


async def test_a_relay_pass_holds_no_lock_from_one_saga_to_the_next(
    app: FastAPI, client: httpx.AsyncClient, key: str
) -> None:
    """A pass that held the share locks of every saga's users until its end deadlocked with a
    request that locks a user row and then waits on something the pass holds (PostgreSQL broke
    it by failing the pass's next saga, over and over while that request waited)."""
    learner = await logged_in(app, client)
    first = await pending(app, RETRYING, key, user_ids=(learner.id,), lease=FAR - 100)
    await pending(app, RETRYING, f"{key}-slow")  # after it: a later next_attempt_at
    blocking[f"{key}-slow"] = asyncio.Event()
    passing = asyncio.create_task(app.state.saga_runner.recover_once(ignore_lease=True))
    try:
        assert await eventually(lambda: _ran(f"{key}-slow"))
        assert (await state(app, first))["status"] == "completed"
        async with app.state.engine.connect() as erasure:
            locked = await erasure.scalar(
                text("SELECT id FROM users WHERE id = :id FOR UPDATE NOWAIT"), {"id": learner.id}
            )
            assert locked == learner.id, "the first saga's lock on its user went with it"
            await erasure.rollback()
    finally:
        blocking.pop(f"{key}-slow").set()
        await passing


async def _ran(key: str) -> bool:
    return runs[key] > 0


async def test_a_compensating_saga_compensates_once_its_forward_attempts_run_out(
    app: FastAPI, key: str
) -> None:
    failing.add(key)
    saga_id = await pending(app, COMPENSATING, key)
    for _ in range(2):
        await run_due(app, saga_id)
    failing.discard(key)
    assert runs[key] == 2
    assert (await state(app, saga_id))["status"] == "compensated"
    assert undone[key] == 1
    assert undone[f"row:{key}"] == 1


async def test_a_step_that_fails_on_replay_stops_nothing_else(app: FastAPI, key: str) -> None:
    replaying = await pending(app, RETRYING, key)
    other = await pending(app, RETRYING, f"{key}-other")
    # It ran once already (its document written, the process died before the mark), and its
    # replay now fails, as a step that is not idempotent would.
    runs[key] += 1
    failing.add(key)
    await app.state.saga_runner.recover_once(ignore_lease=True)
    failing.discard(key)
    assert (await state(app, replaying))["status"] == "pending"
    assert (await state(app, other))["status"] == "completed"


async def test_an_erasure_stored_in_its_older_shape_still_completes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    learner = await logged_in(app, client)
    saga_id = uuid.uuid4()
    old_payload = {
        "user_id": str(learner.id),
        "before": {"email": learner.email, "roles": ["student"], "username": learner.username},
        "actor_id": str(learner.id),
        "ip": None,
        "request_id": None,
    }
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET is_active = false, erased_at = now() WHERE id = :id"),
            {"id": learner.id},
        )
        await conn.execute(
            text(
                "INSERT INTO sagas (id, kind, status, subject_id, payload, next_attempt_at) "
                "VALUES (:id, 'erase_user', 'pending', :subject, CAST(:payload AS jsonb), now())"
            ),
            {
                "id": saga_id,
                "subject": learner.id,
                "payload": json.dumps(old_payload),
            },
        )
    while await app.state.saga_runner.recover_once(ignore_lease=True):
        pass

    async def completed() -> bool:  # the background relay may have taken it first
        return bool((await state(app, saga_id))["status"] == "completed")

    assert await eventually(completed)
    assert not await pg_scalar(app, "SELECT count(*) FROM users WHERE id = :id", id=learner.id)
    payload = await pg_scalar(app, "SELECT payload::text FROM sagas WHERE id = :id", id=saga_id)
    assert learner.email not in payload
