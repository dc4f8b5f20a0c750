"""(a) reading an account across both databases, (b) creating one (the registration saga)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.api_server import Route
from bench.databases import Databases
from bench.environment import BENCH_PASSWORD
from bench.floor import FloorOp
from bench.scenarios.base import (
    COMPLETE_SAGA_SQL,
    DONE_STEP,
    INSERT_SAGAS_SQL,
    RunContext,
    Scenario,
    argon2_parameters,
    principal_sql,
    wait_for_relay,
)
from bench.wrk import WrkPlan
from oneenglish.audit.models import COLLECTION as AUDIT_LOGS
from oneenglish.audit.schemas import DELIVER_AUDIT as DELIVER_AUDIT_KIND
from oneenglish.core.security import hash_password
from oneenglish.profiles.models import COLLECTION as PROFILES
from oneenglish.rbac.defaults import SELF_SIGN_UP_ROLE
from oneenglish.rbac.repository import role_names_sql
from oneenglish.user_settings.models import COLLECTION as SETTINGS
from oneenglish.users.repository import ACCOUNT_SQL
from oneenglish.workflows.register_user import KIND as REGISTER_USER_KIND

DELIVER_AUDIT = DELIVER_AUDIT_KIND.name
REGISTER_USER = REGISTER_USER_KIND.name

CREATED_EMAIL_PATTERN = "bench-new-%"  # SQL LIKE: accounts made by (b), by wrk or the floor

# The application's own statement: the account and its role names (users/service.py::
# get_user_unchecked).
USER_WITH_ROLES_SQL = ACCOUNT_SQL.format(roles=role_names_sql("u.id"))

# -- (a) GET /api/users/{id} -----------------------------------------------------------------


async def read_account_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    return WrkPlan("users_get.lua", (str(ctx.users.ids_file), ctx.admin.token))


async def read_account_floor(ctx: RunContext, db: Databases) -> FloorOp:
    principal = principal_sql()
    ids = [(uuid.UUID(i), i) for i in ctx.users.ids]
    profiles, settings = db.mongo[PROFILES], db.mongo[SETTINGS]
    admin = ctx.admin

    async def read_account(rng: random.Random) -> None:
        user_id, key = ids[rng.randrange(len(ids))]
        async with db.pool.acquire() as conn:
            if await conn.fetchrow(principal, admin.user_id, admin.session_id) is None:
                raise LookupError("the admin's session is not active")
            user, profile, user_settings = await asyncio.gather(
                conn.fetchrow(USER_WITH_ROLES_SQL, user_id),
                profiles.find_one({"_id": key}),
                settings.find_one({"_id": key}),
            )
        if user is None or profile is None or user_settings is None:
            raise LookupError(f"user {key} is incomplete")

    return read_account


READ_ACCOUNT = Scenario(
    key="a",
    title="an account with profile and settings",
    route=Route("GET", "/api/users/{id}"),
    wrk=read_account_plan,
    floor=read_account_floor,
)

# -- (b) POST /api/users ---------------------------------------------------------------------

INSERT_USER_SQL = """
INSERT INTO users (id, email, username, first_name, last_name, password_hash)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING is_active, created_at, updated_at
"""
INSERT_ROLE_SQL = """
INSERT INTO user_roles (user_id, role_id)
SELECT $1, id FROM roles WHERE name = $2
ON CONFLICT DO NOTHING
"""


async def create_user_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    return WrkPlan("users_create.lua", (ctx.admin.token, ctx.run_tag, BENCH_PASSWORD))


async def create_user_floor(ctx: RunContext, db: Databases) -> FloorOp:
    principal = principal_sql()
    admin = ctx.admin
    settings = db.settings
    profiles, user_settings = db.mongo[PROFILES], db.mongo[SETTINGS]
    numbers = itertools.count()

    async def create_user(rng: random.Random) -> None:
        name = f"bf{ctx.run_tag}_{next(numbers)}"
        email = f"bench-new-{name}@example.com"
        user_id, saga_id, audit_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with db.pool.acquire() as conn:
            if await conn.fetchrow(principal, admin.user_id, admin.session_id) is None:
                raise LookupError("the admin's session is not active")
        password_hash = await hash_password(BENCH_PASSWORD)
        payload = {"user_id": str(user_id), "default_settings": settings.default_user_settings}
        async with db.pool.acquire() as conn, conn.transaction():
            user = await conn.fetchrow(
                INSERT_USER_SQL, user_id, email, name, "Bench", "Created", password_hash
            )
            if user is None:
                raise LookupError("INSERT … RETURNING returned no row")
            await conn.execute(INSERT_ROLE_SQL, user_id, SELF_SIGN_UP_ROLE)
            entry = _audit_entry(admin.user_id, user_id, email, name, dict(user))
            await conn.execute(
                INSERT_SAGAS_SQL,
                saga_id,
                REGISTER_USER,
                user_id,
                json.dumps(payload),
                settings.saga_recovery_window_seconds,
                audit_id,
                DELIVER_AUDIT,
                json.dumps(entry),
            )
        now = datetime.now(UTC)
        key = str(user_id)
        await asyncio.gather(
            profiles.update_one(
                {"_id": key},
                {"$setOnInsert": _default_profile(key, now)},
                upsert=True,
            ),
            user_settings.update_one(
                {"_id": key},
                {
                    "$setOnInsert": {
                        "userId": key,
                        "settings": settings.default_user_settings,
                        "createdAt": now,
                        "updatedAt": now,
                    }
                },
                upsert=True,
            ),
        )
        steps = json.dumps({"profile": DONE_STEP, "settings": DONE_STEP})
        async with db.pool.acquire() as conn, conn.transaction():
            # As the saga runner does: the completion mark need not wait for the WAL flush.
            await conn.execute("SET LOCAL synchronous_commit TO off")
            await conn.execute(COMPLETE_SAGA_SQL, saga_id, steps)

    return create_user


def _default_profile(user_id: str, now: datetime) -> dict[str, Any]:
    return {
        "userId": user_id,
        "bio": "",
        "address": "",
        "city": "",
        "socialLinks": {},
        "preferences": {},
        "createdAt": now,
        "updatedAt": now,
    }


def _audit_entry(
    actor: uuid.UUID, user_id: uuid.UUID, email: str, name: str, row: dict[str, Any]
) -> dict[str, Any]:
    after = {
        "id": str(user_id),
        "email": email,
        "username": name,
        "first_name": "Bench",
        "last_name": "Created",
        "is_active": row["is_active"],
        "roles": [SELF_SIGN_UP_ROLE],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }
    return {
        "actorId": str(actor),
        "action": "user.created",
        "entity": "user",
        "entityId": str(user_id),
        "changes": {"before": None, "after": after},
        "ipAddress": "127.0.0.1",
        "requestId": uuid.uuid4().hex,
        "timestamp": datetime.now(UTC).isoformat(),
    }


async def remove_created_users(db: Databases) -> None:
    """Delete every account (b) made, in both databases, with its sagas and audit entries."""
    await wait_for_relay(db, (DELIVER_AUDIT,))
    rows = await db.pool.fetch("SELECT id FROM users WHERE email LIKE $1", CREATED_EMAIL_PATTERN)
    if not rows:
        return
    ids = [r["id"] for r in rows]
    keys = [str(i) for i in ids]
    await asyncio.gather(
        db.mongo[PROFILES].delete_many({"_id": {"$in": keys}}),
        db.mongo[SETTINGS].delete_many({"_id": {"$in": keys}}),
        db.mongo[AUDIT_LOGS].delete_many({"entityId": {"$in": keys}}),
    )
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM sagas WHERE subject_id = ANY($1::uuid[]) "
            "OR (kind = $2 AND payload->>'entityId' = ANY($3::text[]))",
            ids,
            DELIVER_AUDIT,
            keys,
        )
        await conn.execute("DELETE FROM users WHERE email LIKE $1", CREATED_EMAIL_PATTERN)


CREATE_USER = Scenario(
    key="b",
    title="create an account (registration saga)",
    route=Route("POST", "/api/users"),
    wrk=create_user_plan,
    floor=create_user_floor,
    cleanup=remove_created_users,
    facts=argon2_parameters,
)
