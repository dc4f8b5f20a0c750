"""Drift between the databases, in both directions, found and (when asked) repaired.

- A user row without its profile or settings document: repaired by creating the defaults
  (the same idempotent upserts registration uses).
- A document that points at a PostgreSQL row that does not exist (every field registered with
  `register_reference`: users, lessons, courses, enrollments): repaired by deleting it.
- A field-encryption data key of a user who does not exist (db/encryption.py): repaired by
  destroying it, as erasure would have.
Entities an unfinished saga is still working on are not drift yet and are left to the saga."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.core.logging import get_logger
from oneenglish.courses import service as courses
from oneenglish.db import encryption
from oneenglish.db.mongo import Database, references
from oneenglish.enrollments import service as enrollments
from oneenglish.lessons import service as lessons
from oneenglish.profiles import service as profiles
from oneenglish.sagas.log import subjects_in_flight
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.users import service as users

log = get_logger("oneenglish.reconcile")


@dataclass
class DriftReport:
    users_checked: int = 0
    missing_profiles: list[str] = field(default_factory=list)
    missing_settings: list[str] = field(default_factory=list)
    # "collection.field" -> ids of rows that do not exist but are referenced
    orphans: dict[str, list[str]] = field(default_factory=dict)
    repaired: int = 0

    @property
    def found(self) -> int:
        return (
            len(self.missing_profiles)
            + len(self.missing_settings)
            + sum(len(v) for v in self.orphans.values())
        )

    @property
    def remaining(self) -> int:
        return self.found - self.repaired


ExistingIds = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[set[uuid.UUID]]]
_EXISTING: dict[str, ExistingIds] = {
    "users": users.existing_user_ids,
    "courses": courses.existing_course_ids,
    "lessons": lessons.existing_lesson_ids,
    "enrollments": enrollments.existing_enrollment_ids,
}


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def _rows_without_documents(
    db: AsyncSession,
    mongo: Database,
    settings: Settings,
    report: DriftReport,
    repair: bool,
    batch: int,
) -> None:
    async for ids in users.iterate_user_ids(db, batch):
        report.users_checked += len(ids)
        in_flight = await subjects_in_flight(db, ids)
        candidates = [str(i) for i in ids if i not in in_flight]
        with_profile, with_settings = await asyncio.gather(
            profiles.users_with_profiles(mongo, candidates),
            user_settings.users_with_settings(mongo, candidates),
        )
        no_profile = [u for u in candidates if u not in with_profile]
        no_settings = [u for u in candidates if u not in with_settings]
        report.missing_profiles += no_profile
        report.missing_settings += no_settings
        if repair:
            await asyncio.gather(
                *(profiles.create_default_profile(mongo, u) for u in no_profile),
                *(
                    user_settings.create_default_settings(mongo, u, settings.default_user_settings)
                    for u in no_settings
                ),
            )
            report.repaired += len(no_profile) + len(no_settings)


async def _documents_without_rows(
    db: AsyncSession, mongo: Database, report: DriftReport, repair: bool, batch: int
) -> None:
    for ref in references():
        existing_ids = _EXISTING[ref.table]
        referenced: Sequence[object] = await ref.referenced(mongo)
        for start in range(0, len(referenced), batch):
            chunk = [v for v in referenced[start : start + batch] if v is not None]
            parsed = {v: _as_uuid(v) for v in chunk}
            valid = [u for u in parsed.values() if u is not None]
            existing = await existing_ids(db, valid)
            in_flight = await subjects_in_flight(db, valid)
            orphans = [
                v
                for v, u in parsed.items()
                if u is None or (u not in existing and u not in in_flight)
            ]
            if not orphans:
                continue
            report.orphans.setdefault(f"{ref.collection}.{ref.field}", []).extend(map(str, orphans))
            if repair:
                await ref.delete_of(mongo, orphans)
                report.repaired += len(orphans)


async def _data_keys_without_users(
    db: AsyncSession, mongo: Database, report: DriftReport, repair: bool, batch: int
) -> None:
    cipher = encryption.for_database(mongo)
    owners = await cipher.user_ids_with_keys()
    for start in range(0, len(owners), batch):
        parsed = {v: _as_uuid(v) for v in owners[start : start + batch]}
        valid = [u for u in parsed.values() if u is not None]
        existing = await users.existing_user_ids(db, valid)
        in_flight = await subjects_in_flight(db, valid)
        orphans = [
            v for v, u in parsed.items() if u is None or (u not in existing and u not in in_flight)
        ]
        if not orphans:
            continue
        report.orphans.setdefault("key_vault.keyAltNames", []).extend(orphans)
        if repair:
            for user_id in orphans:
                await cipher.destroy_key(user_id)
            report.repaired += len(orphans)


async def reconcile(
    sessionmaker: async_sessionmaker[AsyncSession],
    mongo: Database,
    settings: Settings,
    *,
    repair: bool,
    batch: int = 1000,
) -> DriftReport:
    report = DriftReport()
    async with sessionmaker() as db:
        await _rows_without_documents(db, mongo, settings, report, repair, batch)
        await _documents_without_rows(db, mongo, report, repair, batch)
        await _data_keys_without_users(db, mongo, report, repair, batch)
    log.info(
        "reconcile finished",
        users_checked=report.users_checked,
        found=report.found,
        repaired=report.repaired,
    )
    return report
