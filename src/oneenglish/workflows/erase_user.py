"""Erase a user from both databases (the right to erasure).

1. One PostgreSQL transaction: lock and deactivate the user (no new logins), end their
   sessions, record the intent.
2. Under the saga's lock, delete every MongoDB document that points at the user (each
   collection with a `Reference` to users); deletes by user id are idempotent.
3. In the transaction that marks the saga completed, delete the PostgreSQL row (its roles,
   grants and sessions cascade) and record the audit entry.
Erasure cannot be undone, so it only moves forward: if MongoDB is down, the client gets a 503
saying so, the account stays deactivated, and the relay finishes the erasure when MongoDB is
back. Audit logs are kept (they are the record that the erasure happened).
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.auth import service as auth
from oneenglish.core.context import Actor
from oneenglish.core.errors import Unavailable
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import user_references
from oneenglish.sagas.models import COMPLETED
from oneenglish.sagas.runner import SagaRunner, enqueue
from oneenglish.sagas.workflow import OnFailure, Step, StepContext, Workflow, register
from oneenglish.users import service as users

KIND = "erase_user"


async def _delete_documents(context: StepContext) -> None:
    user_id = context.payload["user_id"]
    await asyncio.gather(
        *(
            context.mongo[ref.collection].delete_many({ref.field: user_id})
            for ref in user_references()
            if ref.erase
        )
    )


async def _delete_user_row(db: AsyncSession, context: StepContext) -> None:
    user_id = uuid.UUID(context.payload["user_id"])
    await users.delete_user_row(db, user_id)
    actor = Actor(
        uuid.UUID(context.payload["actor_id"]) if context.payload.get("actor_id") else None,
        context.payload.get("ip"),
        context.payload.get("request_id"),
    )
    audit.record(db, actor, "user.erased", "user", user_id, before=context.payload["before"])


WORKFLOW = register(
    Workflow(
        kind=KIND,
        steps=(Step("documents", _delete_documents),),
        on_failure=OnFailure.RETRY,
        complete=_delete_user_row,
    )
)


async def erase_user(
    db: AsyncSession, runner: SagaRunner, principal: Principal, actor: Actor, user_id: uuid.UUID
) -> None:
    before = await users.lock_for_erasure(db, principal, user_id)
    await auth.revoke_all_sessions(db, user_id, "erased")
    saga = enqueue(
        db,
        KIND,
        {
            "user_id": str(user_id),
            "before": before.model_dump(mode="json"),
            "actor_id": str(actor.user_id) if actor.user_id else None,
            "ip": actor.ip,
            "request_id": actor.request_id,
        },
        subject_id=user_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await db.commit()

    if await runner.run_now(saga) != COMPLETED:
        raise Unavailable(
            "MongoDB is unavailable. The account is deactivated and its erasure will complete "
            "automatically once MongoDB is back.",
            database="MongoDB",
            erasure="pending",
        )
