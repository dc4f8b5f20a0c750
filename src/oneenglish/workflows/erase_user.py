"""Erase a user from both databases (the right to erasure): nothing about them survives it,
whatever runs late.

1. One PostgreSQL transaction: lock the user's row, which waits for every write of their data
   in progress (each holds a share lock on it: saga steps, event subscribers, the activity and
   error-log writers, profile and chat writes), then deactivate it and mark it erased. From
   this commit on, every such write finds the mark under its lock and writes nothing. Their
   sessions end; the intent is recorded.
2. MongoDB, together: destroy the user's data key (their encrypted profile fields become
   unreadable everywhere, backups included: db/encryption.py), delete every document that
   points at the user (each collection with a `Reference` to users, except the audit log),
   and pseudonymise the user's audit entries (the
   event stays: who did what to what, and when; their personal values and IP go).
3. In the transaction that marks the saga completed: delete the PostgreSQL row (roles, grants,
   sessions, enrolments and their activity, throttles and blocks cascade; courses they created
   stay, without their author), delete the finished sagas whose payloads name the user and scrub
   the waiting ones, delete their rate-limit counters, keep only the user's id in this saga's
   own payload, and record the audit entry (the roles they had, nothing personal).
Erasure cannot be undone, so it only moves forward: if MongoDB is down, the client gets a 503
saying so, the account stays deactivated and marked, and the relay finishes the erasure when
MongoDB is back. A second request while it is pending is a 409.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.auth import service as auth
from oneenglish.core.context import Actor
from oneenglish.core.errors import Unavailable
from oneenglish.core.principal import Principal
from oneenglish.db import encryption
from oneenglish.db.mongo import user_references
from oneenglish.limits import service as limits
from oneenglish.sagas.log import enqueue, forget_user, scrub_payload
from oneenglish.sagas.runner import SagaRunner
from oneenglish.sagas.workflow import (
    OnFailure,
    SagaKind,
    SagaPayload,
    Step,
    StepContext,
    Workflow,
    register,
)
from oneenglish.users import service as users


class Erasure(SagaPayload):
    """Who is erased, with the roles they had (for the audit entry) and who asked."""

    user_id: uuid.UUID
    roles: list[str] = Field(default_factory=list)
    actor_id: uuid.UUID | None = None
    ip: str | None = None
    request_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _roles_of_older_rows(cls, stored: Any) -> Any:
        # Sagas enqueued before migration 0008 carried the whole account as `before`.
        if isinstance(stored, dict) and "roles" not in stored and "before" in stored:
            return {**stored, "roles": (stored["before"] or {}).get("roles", [])}
        return stored


KIND = SagaKind("erase_user", Erasure)
Context = StepContext[Erasure]


async def _destroy_data_key(context: Context) -> None:
    """Crypto-shredding: without the user's data key, every copy of their encrypted fields
    (a replica, a backup taken before today) is noise."""
    await encryption.for_database(context.mongo).destroy_key(str(context.payload.user_id))


async def _delete_documents(context: Context) -> None:
    user_id = str(context.payload.user_id)
    await _destroy_data_key(context)  # first, whatever else fails (the steps run together)
    await asyncio.gather(
        *(ref.delete_of(context.mongo, [user_id]) for ref in user_references() if ref.erase)
    )


async def _pseudonymise_audit_entries(context: Context) -> None:
    await audit.pseudonymise_entries_of(context.mongo, str(context.payload.user_id))


async def _delete_user_row(db: AsyncSession, context: Context) -> None:
    erasure = context.payload
    await users.delete_user_row(db, erasure.user_id)
    await forget_user(db, erasure.user_id, erasure_id=context.saga_id)
    await limits.forget_user(db, erasure.user_id)
    actor = Actor(erasure.actor_id, erasure.ip, erasure.request_id)
    audit.record(db, actor, "user.erased", "user", erasure.user_id, before={"roles": erasure.roles})
    await scrub_payload(db, context.saga_id, keep=("user_id",))


WORKFLOW = register(
    Workflow(
        kind=KIND,
        steps=(
            Step("data_key", _destroy_data_key),
            Step("documents", _delete_documents),
            Step("audit_entries", _pseudonymise_audit_entries),
        ),
        on_failure=OnFailure.RETRY,
        complete=_delete_user_row,
    )
)


async def erase_user(
    db: AsyncSession, runner: SagaRunner, principal: Principal, actor: Actor, user_id: uuid.UUID
) -> None:
    roles = await users.lock_for_erasure(db, principal, user_id)
    await auth.revoke_all_sessions(db, user_id, "erased")
    saga = enqueue(
        db,
        KIND,
        Erasure(
            user_id=user_id,
            roles=roles,
            actor_id=actor.user_id,
            ip=actor.ip,
            request_id=actor.request_id,
        ),
        subject_id=user_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await runner.commit_and_run(
        db,
        saga,
        or_raise=Unavailable(
            "MongoDB is unavailable. The account is deactivated and its erasure will complete "
            "automatically once MongoDB is back.",
            database="MongoDB",
            erasure="pending",
        ),
    )
