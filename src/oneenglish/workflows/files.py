"""Uploading a lesson's media or a learner's recording, submitting a recording and reviewing it:
the lesson and enrolment are checked in PostgreSQL before a byte is read, then the file is
streamed into MongoDB (GridFS). Nothing here needs a saga: an upload that fails or is refused
is aborted (its chunks deleted) before the answer, and one whose process dies mid-way leaves
an unfinished GridFS file without metadata, which no read serves and reconcile reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.core.context import Actor
from oneenglish.core.errors import Forbidden, InvalidInput, NotFound
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database
from oneenglish.db.postgres import release_connection
from oneenglish.enrollments import service as enrollments
from oneenglish.files import service as files
from oneenglish.files.schemas import FileOut, ReviewIn, SubmissionIn, SubmissionOut
from oneenglish.lessons import service as lessons
from oneenglish.settings import Settings
from oneenglish.views.chat import ensure_may_message, ensure_room_member
from oneenglish.views.files import managed_course, readable_file
from oneenglish.views.lesson_view import enrolled_access
from oneenglish.workflows.live_users import live_users


@dataclass(frozen=True)
class Target:
    """What an upload is for: a lesson (media, recordings), a person or a course's room (chat
    attachments), or nothing (the uploader's avatar)."""

    lesson_id: uuid.UUID | None = None
    peer_id: uuid.UUID | None = None
    course_id: uuid.UUID | None = None


async def may_upload(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    purpose: files.Purpose,
    target: Target,
) -> dict[str, str | None]:
    """Where the file will belong, if the caller may upload it there: a lesson's teacher for
    its media, an enrolled learner for a recording, whoever may write to a conversation for its
    attachments, anyone for their own avatar. Checked before a byte of the file is read."""
    if purpose == "avatar":
        return {}
    if purpose == "chat_attachment":
        if (target.peer_id is None) == (target.course_id is None):
            raise InvalidInput("A chat attachment is for a peer_id or a course_id (its room)")
        if target.peer_id is not None:
            await ensure_may_message(db, mongo, principal, target.peer_id)
            return {"peerId": str(target.peer_id)}
        assert target.course_id is not None
        await ensure_room_member(db, principal, target.course_id)
        return {"courseId": str(target.course_id), "room": "course"}
    if target.lesson_id is None:
        raise InvalidInput(f"A {purpose.replace('_', ' ')} file needs a lesson_id")
    if purpose == "lesson_media":
        access = await lessons.get_accessible(db, principal, target.lesson_id)
        if not access.manages:
            raise Forbidden("Only the course's teacher or an administrator adds its media")
        return {"lessonId": str(target.lesson_id), "courseId": str(access.course.id)}
    access, document = await enrolled_access(db, mongo, principal, target.lesson_id)
    if not content.recording_exercise_ids(document):
        raise InvalidInput("This lesson has no recording exercise", field="lesson_id")
    enrollment = await _enrollment(db, principal, access.course.id)
    return {
        "lessonId": str(target.lesson_id),
        "courseId": str(access.course.id),
        "enrollmentId": str(enrollment),
    }


async def upload(
    db: AsyncSession,
    mongo: Database,
    settings: Settings,
    principal: Principal,
    actor: Actor,
    purpose: files.Purpose,
    target: Target,
    incoming: files.Incoming,
) -> FileOut:
    attached = await may_upload(db, mongo, principal, purpose, target)
    # The upload may take minutes: no PostgreSQL connection is held while it streams.
    await release_connection(db)
    # The streaming held no lock on the uploader: the file's document is written under the
    # share lock an erasure waits for, and only if the uploader still exists (else a 404 and
    # the chunks are deleted), so no file outlives its owner's erasure.
    saved = await files.save(
        mongo,
        settings,
        purpose=purpose,
        owner_id=principal.id,
        attached=attached,
        incoming=incoming,
        before_finish=lambda: live_users(db, [principal.id]),
    )
    audit.record(db, actor, "file.uploaded", "file", saved.id, after={"purpose": purpose})
    return saved


async def delete_file(
    db: AsyncSession, mongo: Database, principal: Principal, actor: Actor, file_id: str
) -> None:
    """Its uploader, or the lesson's teacher (or staff) for a lesson's media."""
    stored = await readable_file(db, mongo, principal, file_id)
    meta = stored.metadata
    if meta["ownerId"] != str(principal.id):
        manages = False
        if meta["purpose"] == "lesson_media":
            access = await lessons.get_accessible(db, principal, uuid.UUID(meta["lessonId"]))
            manages = access.manages
        if not manages:
            raise Forbidden("Only who uploaded it, or the teacher for a lesson's media, deletes it")
    audit.record(db, actor, "file.deleted", "file", file_id)
    await files.delete(mongo, [file_id])


async def submit(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: SubmissionIn,
) -> SubmissionOut:
    access, document = await enrolled_access(db, mongo, principal, lesson_id)
    if body.exercise_id not in content.recording_exercise_ids(document):
        raise InvalidInput("No recording exercise with this id in the lesson", field="exercise_id")
    enrollment = await _enrollment(db, principal, access.course.id)
    async with live_users(db, [principal.id]):  # not while the learner is being erased
        submitted = await files.submit(
            mongo,
            user_id=principal.id,
            lesson_id=lesson_id,
            course_id=access.course.id,
            enrollment_id=enrollment,
            exercise_id=body.exercise_id,
            file_id=str(body.file_id),
        )
    audit.record(db, actor, "submission.created", "lesson", lesson_id)
    return submitted


async def review(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    actor: Actor,
    submission_id: str,
    body: ReviewIn,
) -> SubmissionOut:
    submission = await files.get_submission(mongo, submission_id)
    try:
        await managed_course(db, principal, uuid.UUID(submission["courseId"]))
    except NotFound as exc:
        raise NotFound(f"No submission {submission_id}") from exc
    reviewed = await files.review(mongo, submission, body.score, body.comment)
    audit.record(
        db,
        actor,
        "submission.reviewed",
        "lesson",
        uuid.UUID(submission["lessonId"]),
        after={"score": body.score},
    )
    return reviewed


async def _enrollment(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> uuid.UUID:
    enrollment = await enrollments.enrollment_of(db, principal.id, course_id)
    if enrollment is None:
        raise Forbidden("Enrol in the course first")
    return enrollment


async def ensure_avatar(mongo: Database, user_id: uuid.UUID, file_id: uuid.UUID) -> None:
    """An avatar by file: an image that user uploaded as their avatar (422 otherwise)."""
    await files.owned(mongo, user_id, str(file_id), "avatar")
