"""Who may read a file or a course's submissions, decided in PostgreSQL for the file found in
MongoDB. A lesson's media: its course's teacher, staff (courses:read) and the course's
learners. A recording: the learner who made it, the course's teacher and staff. A chat
attachment: the two people of a direct conversation, or the members of a course's room. An
avatar: anyone (it is on the public card), without a token too. Anyone else gets the same 404
as for a file that does not exist."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.errors import Forbidden, NotFound
from oneenglish.core.principal import ANONYMOUS, Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.files import service as files
from oneenglish.files.schemas import SubmissionOut
from oneenglish.lessons import service as lessons
from oneenglish.views.chat import ensure_room_member


async def readable_file(
    db: AsyncSession, mongo: Database, principal: Principal, file_id: str
) -> files.StoredFile:
    stored = await files.find(mongo, file_id)
    meta = stored.metadata
    if meta["purpose"] == "avatar":
        return stored
    if principal.id == ANONYMOUS.id:
        raise NotFound(f"No file {file_id}")
    try:
        allowed = await (
            _may_read_attachment(db, principal, meta)
            if meta["purpose"] == "chat_attachment"
            else _may_read_lesson_file(db, principal, meta)
        )
    except (Forbidden, NotFound) as exc:
        raise NotFound(f"No file {file_id}") from exc
    if not allowed:
        raise NotFound(f"No file {file_id}")
    return stored


async def _may_read_attachment(
    db: AsyncSession, principal: Principal, meta: Mapping[str, Any]
) -> bool:
    if "peerId" in meta:
        return str(principal.id) in (meta["ownerId"], meta["peerId"])
    await ensure_room_member(db, principal, uuid.UUID(meta["courseId"]))
    return True


async def _may_read_lesson_file(
    db: AsyncSession, principal: Principal, meta: Mapping[str, Any]
) -> bool:
    access = await lessons.get_accessible(db, principal, uuid.UUID(meta["lessonId"]))
    if access.manages or principal.can("courses", "read"):
        return True
    if meta["purpose"] == "recording":
        return bool(meta["ownerId"] == str(principal.id))
    return await enrollments.is_enrolled(db, principal.id, access.course.id)


async def managed_course(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> None:
    """The course's teacher or staff (courses:read), who review its learners' recordings."""
    course = await courses.get_visible(db, principal, course_id)
    if not (courses.can_manage(principal, course) or principal.can("courses", "read")):
        raise Forbidden("A course's submissions are for its teacher and administrators")


async def course_submissions(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    course_id: uuid.UUID,
    status: str | None,
    limit: int,
    skip: int,
) -> tuple[list[SubmissionOut], int]:
    await managed_course(db, principal, course_id)
    return await files.submissions_of_course(mongo, course_id, status, limit, skip)
