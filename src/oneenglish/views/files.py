"""Who may read a file or a course's submissions: the lesson it belongs to (PostgreSQL) decides,
for the file found in MongoDB. A lesson's media: its course's teacher, staff (courses:read) and
the course's learners. A recording: the learner who made it, the course's teacher and staff.
Anyone else gets the same 404 as for a file that does not exist."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.errors import Forbidden, NotFound
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.files import service as files
from oneenglish.files.schemas import SubmissionOut
from oneenglish.lessons import service as lessons


async def readable_file(
    db: AsyncSession, mongo: Database, principal: Principal, file_id: str
) -> files.StoredFile:
    stored = await files.find(mongo, file_id)
    meta = stored.metadata
    try:
        access = await lessons.get_accessible(db, principal, uuid.UUID(meta["lessonId"]))
    except NotFound as exc:
        raise NotFound(f"No file {file_id}") from exc
    if access.manages or principal.can("courses", "read"):
        return stored
    if meta["purpose"] == "recording":
        allowed = meta["ownerId"] == str(principal.id)
    else:
        allowed = await enrollments.is_enrolled(db, principal.id, access.course.id)
    if not allowed:
        raise NotFound(f"No file {file_id}")
    return stored


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
