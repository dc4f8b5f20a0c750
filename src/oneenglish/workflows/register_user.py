"""Create a user: the PostgreSQL row (with roles), then its profile and settings in MongoDB.

1. One PostgreSQL transaction: the user, its roles, its audit entry and this saga's intent
   (and, for a self sign-up, its count against the client address's sign-up limit, which is
   also checked before the password is hashed, so a refused sign-up costs no Argon2).
2. Under the saga's lock, both MongoDB documents (idempotent upserts keyed by the user id).
3. Completed: in the transaction that marks it so, the verification link and its mail
   (accounts/service.py:send_verification; the relay sends it), so no mail goes out for an
   account that does not come to exist. 201. MongoDB failed: the user row is deleted in the
   same transaction that marks the saga compensating, then the documents are deleted (now, or
   by the relay once MongoDB is back), and the client gets a 503.
A crash anywhere leaves the intent behind; recovery finishes it (or compensates it after
repeated failures). So a user exists in both databases or in neither, and a 201 means both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.accounts import service as accounts
from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import Unavailable
from oneenglish.idempotency import service as idempotency
from oneenglish.idempotency.service import IdempotentRequest
from oneenglish.limits import service as limits
from oneenglish.profiles import service as profiles
from oneenglish.sagas.log import enqueue
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
from oneenglish.user_settings import service as user_settings
from oneenglish.users import service as users
from oneenglish.users.schemas import UserOut

HOUR = 3600


class NewAccount(SagaPayload):
    user_id: uuid.UUID
    default_settings: dict[str, Any]


KIND = SagaKind("register_user", NewAccount)
Context = StepContext[NewAccount]


async def _create_profile(context: Context) -> None:
    await profiles.create_default_profile(context.mongo, str(context.payload.user_id))


async def _delete_profile(context: Context) -> None:
    await profiles.delete_profile(context.mongo, str(context.payload.user_id))


async def _create_settings(context: Context) -> None:
    await user_settings.create_default_settings(
        context.mongo, str(context.payload.user_id), context.payload.default_settings
    )


async def _delete_settings(context: Context) -> None:
    await user_settings.delete_settings(context.mongo, str(context.payload.user_id))


async def _send_verification(db: AsyncSession, context: Context) -> None:
    await accounts.send_verification(db, context.settings, context.payload.user_id)


async def _delete_user_row(db: AsyncSession, context: Context) -> None:
    user_id = context.payload.user_id
    if await users.delete_user_row(db, user_id):
        audit.record(db, Actor.system(), "user.registration_undone", "user", user_id)


WORKFLOW = register(
    Workflow(
        kind=KIND,
        steps=(
            Step("profile", _create_profile, _delete_profile),
            Step("settings", _create_settings, _delete_settings),
        ),
        on_failure=OnFailure.COMPENSATE,
        complete=_send_verification,
        undo=_delete_user_row,
    )
)


async def register_user(
    db: AsyncSession,
    runner: SagaRunner,
    actor: Actor,
    new_user: users.NewUser,
    roles: Sequence[str],
    *,
    self_sign_up: bool = False,
    idempotent: IdempotentRequest | None = None,
) -> UserOut:
    await idempotency.replay_if_known(db, idempotent)
    settings = runner.settings
    signups = limits.Limit("sign-up", settings.signups_per_ip_per_hour, HOUR)
    address = f"ip:{actor.ip or 'unknown'}"
    if self_sign_up:
        await limits.ensure_allowed(db, signups, address)
    user_id = uuid.uuid4()
    user = await users.create_user(db, new_user, roles, user_id=user_id)
    if self_sign_up:
        await limits.consume(db, signups, address)
    audit.record(db, actor, "user.created", "user", user_id, after=user)
    saga = enqueue(
        db,
        KIND,
        NewAccount(user_id=user_id, default_settings=settings.default_user_settings),
        subject_id=user_id,
        lease_seconds=settings.saga_recovery_window_seconds,
        user_ids=[user_id],
    )
    await idempotency.remember(
        db, idempotent, status_code=201, body=user, user_id=user_id, saga_id=saga.id
    )
    await runner.commit_and_run(
        db,
        saga,
        or_raise=Unavailable(
            "MongoDB is unavailable, so the account was not created; nothing was kept. "
            "Retry shortly.",
            database="MongoDB",
        ),
    )
    return user
