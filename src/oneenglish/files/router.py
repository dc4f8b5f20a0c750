"""Files (lesson media, learners' recordings) and recording submissions (README "Files")."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from fastapi import Query, Request, status
from starlette.responses import Response, StreamingResponse

from oneenglish.auth.dependencies import CatalogueReader, CurrentActor, CurrentUser
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.errors import DomainError
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.routing import ApiRouter
from oneenglish.core.uploads import FilePart
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.files import service
from oneenglish.files.schemas import FileOut, ReviewIn, SubmissionIn, SubmissionOut
from oneenglish.views import files as file_views
from oneenglish.workflows import files as uploads

router = ApiRouter(tags=["files"])

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(DomainError):
    status = 416
    title = "Range not satisfiable"
    slug = "range-not-satisfiable"


@router.post(
    "/api/files",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a lesson's media or a recording (multipart, one part named `file`)",
    description="`purpose=lesson_media` with `lesson_id` (the course's teacher; audio/mpeg, "
    "audio/ogg, audio/webm, image/png, image/jpeg, image/webp, application/pdf; at most "
    "LESSON_MEDIA_MAX_BYTES), `purpose=recording` with `lesson_id` (an enrolled learner, for a "
    "lesson with a recording exercise; audio only; RECORDING_MAX_BYTES), "
    "`purpose=chat_attachment` with `peer_id` or `course_id` (who may write there; audio, "
    "images, PDF; CHAT_ATTACHMENT_MAX_BYTES) or `purpose=avatar` (anyone, for themselves; "
    "images; AVATAR_MAX_BYTES). The type is read from the "
    "file's bytes, whatever its name or declared type; the body is streamed into MongoDB "
    "GridFS, never held whole, and refused with a 413 once it passes the limit.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
    responses={
        400: {"description": "Not multipart, or no part named `file`"},
        413: {"description": "Larger than the purpose allows"},
    },
)
async def upload_file(
    request: Request,
    db: DbSession,
    mongo: MongoDb,
    settings: AppSettings,
    principal: CurrentUser,
    actor: CurrentActor,
    purpose: Annotated[Literal["lesson_media", "recording", "chat_attachment", "avatar"], Query()],
    lesson_id: Annotated[
        uuid.UUID | None, Query(description="Media and recordings: the lesson")
    ] = None,
    peer_id: Annotated[
        uuid.UUID | None, Query(description="A chat attachment for a direct conversation")
    ] = None,
    course_id: Annotated[
        uuid.UUID | None, Query(description="A chat attachment for a course's room")
    ] = None,
) -> FileOut:
    part = FilePart(request, service.policy(settings, purpose).max_bytes)
    target = uploads.Target(lesson_id=lesson_id, peer_id=peer_id, course_id=course_id)
    # Where it goes and who asks are checked before any byte of the file is read.
    return await uploads.upload(db, mongo, settings, principal, actor, purpose, target, part)


@router.get(
    "/api/files/{file_id}",
    summary="A file's bytes (Range for seeking; ETag). Avatars need no token",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The whole file"},
        206: {"description": "The requested range (`Range: bytes=a-b`)"},
        304: {"description": "Not modified (If-None-Match)"},
        416: {"description": "The range is outside the file"},
    },
)
async def read_file(
    file_id: str, request: Request, db: DbSession, mongo: MongoDb, principal: CatalogueReader
) -> Response:
    stored = await file_views.readable_file(db, mongo, principal, file_id)
    meta = stored.metadata
    etag = f'"{meta["sha256"]}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        # Private: who may read it depends on the caller. A file never changes (a new upload is
        # a new id), so a client may keep it.
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    start, end = 0, stored.length - 1
    code = 200
    asked = request.headers.get("range")
    if asked:
        start, end = _range(asked, stored.length)
        code = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{stored.length}"
    headers["Content-Length"] = str(end - start + 1 if stored.length else 0)
    if not stored.length:
        return Response(b"", status_code=code, media_type=meta["contentType"], headers=headers)
    body = service.read(mongo, file_id, start, end)
    return StreamingResponse(
        body, status_code=code, media_type=meta["contentType"], headers=headers
    )


def _range(header: str, length: int) -> tuple[int, int]:
    """One range (what players ask for); several, or one outside the file: 416."""
    match = _RANGE.match(header.strip())
    unsatisfiable = RangeNotSatisfiable(
        f"The file has {length} bytes; ask for one range within them",
        headers={"Content-Range": f"bytes */{length}"},
    )
    if match is None or length == 0:
        raise unsatisfiable
    first, last = match.groups()
    if not first and not last:
        raise unsatisfiable
    if not first:  # the last N bytes
        start, end = max(0, length - int(last)), length - 1
    else:
        start = int(first)
        end = min(int(last), length - 1) if last else length - 1
    if start >= length or end < start:
        raise unsatisfiable
    return start, end


@router.delete(
    "/api/files/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a file (who uploaded it, or the teacher for a lesson's media)",
)
async def delete_file(
    file_id: str, db: DbSession, mongo: MongoDb, principal: CurrentUser, actor: CurrentActor
) -> None:
    await uploads.delete_file(db, mongo, principal, actor, file_id)


@router.post(
    "/api/lessons/{lesson_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    summary="Submit a recording for a recording exercise, for the teacher to review",
)
async def submit_recording(
    lesson_id: uuid.UUID,
    body: SubmissionIn,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> SubmissionOut:
    return await uploads.submit(db, mongo, principal, actor, lesson_id, body)


@router.get(
    "/api/courses/{course_id}/submissions",
    summary="The course's recordings to review, oldest first (its teacher, or courses:read)",
)
async def course_submissions(
    course_id: uuid.UUID,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    page: Pagination,
    status: Literal["pending", "reviewed"] | None = None,
) -> Page[SubmissionOut]:
    items, total = await file_views.course_submissions(
        db, mongo, principal, course_id, status, page.page_size, page.offset
    )
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.post(
    "/api/submissions/{submission_id}/review",
    summary="Score a recording and comment on it (the course's teacher, or courses:read)",
)
async def review_submission(
    submission_id: str,
    body: ReviewIn,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> SubmissionOut:
    return await uploads.review(db, mongo, principal, actor, submission_id, body)


@router.get("/api/me/submissions", summary="My recordings and their reviews, newest first")
async def my_submissions(
    mongo: MongoDb, principal: CurrentUser, page: Pagination
) -> Page[SubmissionOut]:
    items, total = await service.submissions_of_user(
        mongo, principal.id, page.page_size, page.offset
    )
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)
