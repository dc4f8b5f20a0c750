"""The saga log as the rest of the application uses it: recording an intent in the caller's
transaction (enqueue), and what an erasure, an idempotency replay and reconcile ask of it. The
runner (sagas/runner.py) is what advances the intents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.sagas import repository
from oneenglish.sagas.models import COMPLETED
from oneenglish.sagas.workflow import (
    Enqueued,
    ForErasedUsers,
    P,
    SagaKind,
    Workflow,
    workflow_for,
)

# Set on a session whose transaction enqueued a saga: the runner's after-commit hook wakes
# the relay for it.
ENQUEUED = "oneenglish.sagas_enqueued"
SCRUBBED_PAYLOAD = {"scrubbed": "a user it named was erased"}


def enqueue(
    db: AsyncSession,
    kind: SagaKind[P],
    payload: P,
    *,
    subject_id: uuid.UUID | None = None,
    lease_seconds: float = 0.0,
    user_ids: Sequence[uuid.UUID] = (),
) -> Enqueued[P]:
    """Record the intent in the caller's transaction. It commits with the caller's change, or
    not at all. With a lease, recovery leaves it to the caller for that long. `user_ids`: the
    users whose data its steps write (they run only while those users are not erased)."""
    workflow: Workflow[P] = workflow_for(kind.name)  # fails fast if the kind has no workflow
    stored = payload.model_dump(mode="json", by_alias=True)
    saga = repository.add(db, kind.name, stored, subject_id, lease_seconds, user_ids)
    db.info[ENQUEUED] = True
    return Enqueued(saga.id, workflow, payload, tuple(saga.user_ids))


def skipped_steps(workflow: Workflow[Any]) -> dict[str, dict[str, Any]]:
    return {
        step.name: {"runs": 0, "applied": 0, "done": True, "skipped": "erased"}
        for step in workflow.steps
    }


async def forget_user(db: AsyncSession, user_id: uuid.UUID, *, erasure_id: uuid.UUID) -> None:
    """For an erasure, in its last transaction: delete the finished sagas that name the user
    and scrub the unfinished ones that may not run for them (those that may, such as an audit
    delivery, pseudonymise as they run). Sagas another process is running are left to it: it
    finds the user erased and scrubs them itself."""
    await repository.forget_user(db, user_id, keep=erasure_id)
    for saga in await repository.unfinished_naming_user(db, user_id, keep=erasure_id):
        if workflow_for(saga.kind).for_erased_users is ForErasedUsers.SKIP:
            saga.status = COMPLETED
            saga.finished_at = func.now()
            saga.steps = skipped_steps(workflow_for(saga.kind))
            saga.payload = dict(SCRUBBED_PAYLOAD)


async def scrub_payload(db: AsyncSession, saga_id: uuid.UUID, keep: Sequence[str]) -> None:
    """Keep only the named fields of a saga's payload (in the transaction that finishes it)."""
    await repository.keep_payload_fields(db, saga_id, keep)


async def saga_status(db: AsyncSession, saga_id: uuid.UUID) -> str | None:
    """A saga's status; None once it is gone (finished sagas are deleted after retention)."""
    return await repository.status_of(db, saga_id)


async def subjects_in_flight(db: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these entities an unfinished saga is still working on."""
    return await repository.unfinished_subjects(db, ids)
