"""The users data set: accounts as registration leaves them, in bulk.

PostgreSQL: `users` and a `user_roles` row for the student role (what self sign-up gives).
MongoDB: `user_profiles` and `user_settings`, `_id` = `userId` = the user id as a string, with
the fields `profiles/repository.py` and `user_settings/repository.py` write. About half of the
profiles are filled in, as users who edited theirs would have them (same fields, real values).

One Argon2 hash of the bench password serves every account, so logging in as any of them
works and loading 100 000 users takes seconds rather than hours of hashing.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.data import DataSet
from bench.data.bulk import delete_all_but, insert_all
from bench.data.scales import Scale
from bench.databases import Databases
from bench.environment import BENCH_PASSWORD
from oneenglish.core.security import hash_password
from oneenglish.profiles.models import COLLECTION as PROFILES
from oneenglish.rbac.defaults import SELF_SIGN_UP_ROLE
from oneenglish.user_settings.models import COLLECTION as SETTINGS

EMAIL_PATTERN = "bench-u%"  # SQL LIKE: every loaded account, and nothing else

FIRST_NAMES = ("Ana", "Luis", "María", "Carlos", "Sofía", "Jorge", "Lucía", "Diego", "Elena")
LAST_NAMES = ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Díaz", "Ruiz")
CITIES = ("Madrid", "Bogotá", "Lima", "Quito", "Santiago", "Montevideo", "Sevilla", "Cali")
BIOS = (
    "Preparing for the B2 exam; I practise speaking every evening.",
    "Software developer improving my English for meetings and code reviews.",
    "Nurse planning to work abroad. Vocabulary first, grammar second.",
    "I love films without subtitles and want to understand every joke.",
)


def email(index: int) -> str:
    return f"bench-u{index:06d}@example.com"


def username(index: int) -> str:
    return f"bench_u{index:06d}"


@dataclass(frozen=True)
class UsersSample:
    """The loaded accounts, written to files the wrk scripts read."""

    count: int
    ids: list[str]
    ids_file: Path
    emails_file: Path


async def present(db: Databases) -> int:
    count: int = await db.pool.fetchval(
        "SELECT count(*) FROM users WHERE email LIKE $1", EMAIL_PATTERN
    )
    return count


async def wipe(db: Databases) -> None:
    kept = [
        str(r["id"])
        for r in await db.pool.fetch("SELECT id FROM users WHERE email NOT LIKE $1", EMAIL_PATTERN)
    ]
    await asyncio.gather(*(delete_all_but(db, c, kept) for c in (PROFILES, SETTINGS)))
    await db.pool.execute("DELETE FROM users WHERE email LIKE $1", EMAIL_PATTERN)


async def load(db: Databases, scale: Scale) -> None:
    password_hash = await hash_password(BENCH_PASSWORD)
    student = await db.pool.fetchval("SELECT id FROM roles WHERE name = $1", SELF_SIGN_UP_ROLE)
    if student is None:
        raise RuntimeError("the student role is missing: run `oneenglish migrate` first")
    rng = random.Random(7)
    now = datetime.now(UTC)
    users: list[tuple[Any, ...]] = []
    for index in range(scale.users):
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86_400))
        users.append(
            (
                uuid.uuid4(),
                email(index),
                username(index),
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                password_hash,
                True,
                created,
                created,
            )
        )
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table(
            "users",
            records=users,
            columns=[
                "id",
                "email",
                "username",
                "first_name",
                "last_name",
                "password_hash",
                "is_active",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "user_roles",
            records=[(u[0], student, u[7]) for u in users],
            columns=["user_id", "role_id", "created_at"],
        )
    defaults = db.settings.default_user_settings
    profiles = [_profile(str(u[0]), u[7], rng) for u in users]
    settings = [_settings(str(u[0]), u[7], defaults) for u in users]
    await insert_all(db, PROFILES, profiles)
    await insert_all(db, SETTINGS, settings)


def _profile(user_id: str, created: datetime, rng: random.Random) -> dict[str, Any]:
    document: dict[str, Any] = {
        "_id": user_id,
        "userId": user_id,
        "bio": "",
        "address": "",
        "city": "",
        "socialLinks": {},
        "preferences": {},
        "createdAt": created,
        "updatedAt": created,
    }
    if rng.random() < 0.5:
        document |= {
            "bio": rng.choice(BIOS),
            "city": rng.choice(CITIES),
            "socialLinks": {"linkedin": f"https://www.linkedin.com/in/{user_id[:8]}"},
            "preferences": {"studyReminders": True, "preferredTime": "evening"},
        }
    return document


def _settings(user_id: str, created: datetime, defaults: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": user_id,
        "userId": user_id,
        "settings": dict(defaults),
        "createdAt": created,
        "updatedAt": created,
    }


async def sample(db: Databases, run_dir: Path) -> UsersSample:
    rows = await db.pool.fetch(
        "SELECT id::text AS id, email FROM users WHERE email LIKE $1 ORDER BY email",
        EMAIL_PATTERN,
    )
    ids = [r["id"] for r in rows]
    ids_file = run_dir / "user-ids.txt"
    emails_file = run_dir / "user-emails.txt"
    ids_file.write_text("".join(f"{i}\n" for i in ids))
    emails_file.write_text("".join(f"{r['email']}\n" for r in rows))
    return UsersSample(len(ids), ids, ids_file, emails_file)


DATASET = DataSet(
    name="users",
    expected=lambda scale: scale.users,
    present=present,
    load=load,
    wipe=wipe,
)
