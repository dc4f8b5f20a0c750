"""Files and recording submissions (MongoDB only): what each purpose accepts, storing a streamed
upload whose type is read from its bytes, ranges for playback, deletion; the submissions a
teacher reviews. Who may upload or read a file depends on the lesson it is attached to: the
compositions decide that (workflows/files.py, views/files.py) before calling here."""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import filetype

from oneenglish.core.errors import InvalidInput, NotFound, PayloadTooLarge
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.files import repository
from oneenglish.files.repository import FileStore, GridFSStore, StoredFile

__all__ = ["StoredFile"]
from oneenglish.files.schemas import FileOut, SubmissionOut
from oneenglish.settings import Settings

Purpose = Literal["lesson_media", "recording", "chat_attachment", "avatar"]
AUDIO = frozenset({"audio/mpeg", "audio/ogg", "audio/webm"})
IMAGES = frozenset({"image/png", "image/jpeg", "image/webp"})
# How much of the start of a file is read to tell its type (the longest signature we accept
# is well inside it).
SNIFF_BYTES = 4096
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class Incoming(Protocol):
    """An upload as it arrives: its bytes, and the name its client gave it."""

    @property
    def filename(self) -> str | None: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class Policy:
    types: frozenset[str]
    max_bytes: int


def policy(settings: Settings, purpose: Purpose) -> Policy:
    match purpose:
        case "lesson_media":
            return Policy(AUDIO | IMAGES | {"application/pdf"}, settings.lesson_media_max_bytes)
        case "recording":
            return Policy(AUDIO, settings.recording_max_bytes)
        case "chat_attachment":
            return Policy(AUDIO | IMAGES | {"application/pdf"}, settings.chat_attachment_max_bytes)
    return Policy(IMAGES, settings.avatar_max_bytes)


def store(mongo: Database) -> FileStore:
    return GridFSStore(mongo)


def sniff(head: bytes) -> str | None:
    """The type the bytes say they are (magic numbers, the `filetype` library), whatever the
    client claims; WebM is told from Matroska by its DocType."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime == "video/webm" and b"webm" in head[:64]:
        return "audio/webm"  # audio-only WebM (what browsers' MediaRecorder makes) looks the same
    return str(kind.mime)


def safe_filename(name: str | None) -> str:
    cleaned = _FILENAME_UNSAFE.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    return cleaned.strip(" .")[:200] or "file"


async def save(
    mongo: Database,
    settings: Settings,
    *,
    purpose: Purpose,
    owner_id: uuid.UUID,
    attached: Mapping[str, str | None],
    incoming: Incoming,
    before_finish: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext,
) -> FileOut:
    """Store an upload as it arrives. Its first bytes decide its type (422 if not one this
    purpose takes); past the purpose's size the upload stops (413); either way, and on any
    error, nothing of it is kept. The file's document, which makes it a file, is written
    inside `before_finish()` (the caller's check that its owner still exists); if that
    raises, the upload is aborted too."""
    rules = policy(settings, purpose)
    stream = aiter(incoming)
    head = b""
    async for piece in stream:
        head += piece
        if len(head) >= SNIFF_BYTES:
            break
    if not head:
        raise InvalidInput("The file is empty", field="file")
    content_type = sniff(head)
    if content_type not in rules.types:
        raise InvalidInput(
            f"A {purpose.replace('_', ' ')} file must be one of {sorted(rules.types)}; "
            f"this one is {content_type or 'of no type we know'}",
            field="file",
            accepted=sorted(rules.types),
        )
    file_id = str(uuid.uuid4())
    name = safe_filename(incoming.filename)  # its part's headers are read by now
    upload = store(mongo).upload(file_id, name)
    digest = hashlib.sha256()
    size = 0
    try:
        async for data in _prepend(head, stream):
            size += len(data)
            if size > rules.max_bytes:
                raise PayloadTooLarge(
                    f"The file may be at most {rules.max_bytes} bytes", max_bytes=rules.max_bytes
                )
            digest.update(data)
            await upload.write(data)
        metadata = {
            "ownerId": str(owner_id),
            "purpose": purpose,
            "contentType": content_type,
            "sha256": digest.hexdigest(),
            # What it belongs to: lessonId, courseId, enrollmentId, peerId (a direct chat).
            **{k: v for k, v in attached.items() if v is not None},
        }
        async with before_finish():
            await upload.finish(metadata)
    except BaseException:
        await upload.abort()
        raise
    stored = await store(mongo).stat(file_id)
    assert stored is not None
    return to_out(stored)


async def _prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for piece in rest:
        yield piece


async def find(mongo: Database, file_id: str) -> StoredFile:
    if not _is_uuid(file_id):
        raise NotFound(f"No file {file_id}")
    stored = await store(mongo).stat(file_id)
    if stored is None:
        raise NotFound(f"No file {file_id}")
    return stored


def read(mongo: Database, file_id: str, start: int, end: int) -> AsyncIterator[bytes]:
    return store(mongo).read(file_id, start, end)


async def delete(mongo: Database, file_ids: list[str]) -> None:
    await store(mongo).delete(file_ids)


async def delete_of_lesson(mongo: Database, lesson_id: uuid.UUID) -> None:
    """A deleted lesson's media and recordings, and its submissions."""
    await repository.delete_submissions_where(mongo, "lessonId", str(lesson_id))
    await delete(mongo, await repository.file_ids_where(mongo, "lessonId", str(lesson_id)))


async def delete_of_course(mongo: Database, course_id: uuid.UUID) -> None:
    await repository.delete_submissions_where(mongo, "courseId", str(course_id))
    await delete(mongo, await repository.file_ids_where(mongo, "courseId", str(course_id)))


async def delete_of_enrollment(mongo: Database, enrollment_id: uuid.UUID) -> None:
    """A learner who leaves a course takes their recordings and submissions with them."""
    await repository.delete_submissions_where(mongo, "enrollmentId", str(enrollment_id))
    await delete(mongo, await repository.file_ids_where(mongo, "enrollmentId", str(enrollment_id)))


async def ensure_lesson_media(mongo: Database, lesson_id: uuid.UUID, file_ids: set[str]) -> None:
    """Every file a lesson's content points at is a media file uploaded for that lesson."""
    for file_id in sorted(file_ids):
        stored = await store(mongo).stat(file_id)
        if (
            stored is None
            or stored.metadata["purpose"] != "lesson_media"
            or stored.metadata["lessonId"] != str(lesson_id)
        ):
            raise InvalidInput(
                f"Resource file {file_id} is not a media file of this lesson "
                "(POST /api/files?purpose=lesson_media&lesson_id=…)",
                field="resources",
            )


async def owned(
    mongo: Database, owner_id: uuid.UUID, file_id: str, purpose: Purpose, **attached: str
) -> StoredFile:
    """The caller's own file of this purpose, attached where they say (422 otherwise)."""
    stored = await store(mongo).stat(file_id) if _is_uuid(file_id) else None
    meta = stored.metadata if stored else {}
    if (
        stored is None
        or meta["purpose"] != purpose
        or meta["ownerId"] != str(owner_id)
        or any(meta.get(k) != v for k, v in attached.items())
    ):
        raise InvalidInput(
            f"{file_id} is not a {purpose.replace('_', ' ')} you uploaded for this "
            f"(POST /api/files?purpose={purpose})",
            field="file_id",
        )
    return stored


def to_out(stored: StoredFile) -> FileOut:
    meta = stored.metadata
    return FileOut(
        id=stored.id,
        url=f"/api/files/{stored.id}",
        purpose=meta["purpose"],
        content_type=meta["contentType"],
        size=stored.length,
        sha256=meta["sha256"],
        filename=stored.filename,
        lesson_id=meta.get("lessonId"),
        uploaded_at=stored.upload_date.replace(tzinfo=stored.upload_date.tzinfo or UTC),
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- recording submissions -------------------------------------------------------------


async def submit(
    mongo: Database,
    *,
    user_id: uuid.UUID,
    lesson_id: uuid.UUID,
    course_id: uuid.UUID,
    enrollment_id: uuid.UUID,
    exercise_id: str,
    file_id: str,
) -> SubmissionOut:
    recording = await find(mongo, file_id)
    meta = recording.metadata
    if (
        meta["purpose"] != "recording"
        or meta["ownerId"] != str(user_id)
        or meta["lessonId"] != str(lesson_id)
    ):
        raise InvalidInput("Submit a recording you uploaded for this lesson", field="file_id")
    document = {
        "_id": str(uuid.uuid4()),
        "userId": str(user_id),
        "lessonId": str(lesson_id),
        "courseId": str(course_id),
        "enrollmentId": str(enrollment_id),
        "exerciseId": exercise_id,
        "fileId": file_id,
        "status": "pending",
        "submittedAt": datetime.now(UTC),
        "score": None,
        "comment": None,
        "reviewedAt": None,
    }
    await repository.insert_submission(mongo, document)
    return submission_out(document)


async def get_submission(mongo: Database, submission_id: str) -> MongoDocument:
    found = await repository.submission(mongo, submission_id) if _is_uuid(submission_id) else None
    if found is None:
        raise NotFound(f"No submission {submission_id}")
    return found


async def review(
    mongo: Database, submission: MongoDocument, score: int, comment: str | None
) -> SubmissionOut:
    values = {
        "status": "reviewed",
        "score": score,
        "comment": comment,
        "reviewedAt": datetime.now(UTC),
    }
    await repository.review(mongo, submission["_id"], values)
    return submission_out({**submission, **values})


async def submissions_of_course(
    mongo: Database, course_id: uuid.UUID, status: str | None, limit: int, skip: int
) -> tuple[list[SubmissionOut], int]:
    query: dict[str, Any] = {"courseId": str(course_id)}
    if status is not None:
        query["status"] = status
    rows, total = await repository.submissions_page(
        mongo, query, [("submittedAt", 1), ("_id", 1)], limit, skip
    )
    return [submission_out(d) for d in rows], total


async def submissions_of_user(
    mongo: Database, user_id: uuid.UUID, limit: int, skip: int
) -> tuple[list[SubmissionOut], int]:
    rows, total = await repository.submissions_page(
        mongo, {"userId": str(user_id)}, [("submittedAt", -1), ("_id", 1)], limit, skip
    )
    return [submission_out(d) for d in rows], total


def submission_out(document: MongoDocument) -> SubmissionOut:
    return SubmissionOut(
        id=document["_id"],
        learner_id=document["userId"],
        lesson_id=document["lessonId"],
        course_id=document["courseId"],
        exercise_id=document["exerciseId"],
        file_url=f"/api/files/{document['fileId']}",
        status=document["status"],
        submitted_at=document["submittedAt"],
        score=document.get("score"),
        comment=document.get("comment"),
        reviewed_at=document.get("reviewedAt"),
    )
