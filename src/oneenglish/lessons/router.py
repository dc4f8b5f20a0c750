from __future__ import annotations

import uuid

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.responses import Response

from oneenglish.auth.dependencies import CurrentActor, CurrentUser
from oneenglish.content.schemas import ContentIn, ManagedContentOut
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.idempotency.dependencies import IdempotencyKey
from oneenglish.lessons import service
from oneenglish.lessons.schemas import LessonOut, LessonPatch
from oneenglish.progress.schemas import ProgressIn, ProgressOut, QuizIn, QuizResultOut
from oneenglish.sagas.dependencies import Sagas
from oneenglish.usecases.catalogue import publish_lesson
from oneenglish.views import lesson_view
from oneenglish.workflows import record_progress, replace_content
from oneenglish.workflows import submit_quiz as quizzes
from oneenglish.workflows.delete_lesson import delete_lesson

router = ApiRouter(prefix="/api/lessons", tags=["lessons"])


@router.get(
    "/{lesson_id}",
    summary="A lesson with its content and my progress",
    description="Content is shown to enrolled learners (without answer keys) and to the "
    "course's teacher and admins (with them); others get `locked: true`. If MongoDB is "
    'unavailable: 200 without content and `degraded: ["mongodb"]`.',
)
async def get_lesson(
    lesson_id: uuid.UUID, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> lesson_view.LessonView:
    return await lesson_view.view_lesson(db, mongo, principal, lesson_id)


@router.patch("/{lesson_id}", summary="Edit a lesson (the course's teacher or courses:update)")
async def update_lesson(
    lesson_id: uuid.UUID,
    body: LessonPatch,
    db: DbSession,
    principal: CurrentUser,
    actor: CurrentActor,
) -> LessonOut:
    lesson = await service.update_lesson(db, principal, actor, lesson_id, body)
    return lesson


@router.post("/{lesson_id}/publish", summary="Publish a lesson (progress is recomputed)")
async def publish(
    lesson_id: uuid.UUID, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> LessonOut:
    return await publish_lesson(db, principal, actor, lesson_id, True)


@router.post("/{lesson_id}/unpublish", summary="Unpublish a lesson (progress is recomputed)")
async def unpublish(
    lesson_id: uuid.UUID, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> LessonOut:
    return await publish_lesson(db, principal, actor, lesson_id, False)


@router.delete(
    "/{lesson_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a lesson with its content and every learner's progress on it",
)
async def remove_lesson(
    lesson_id: uuid.UUID, db: DbSession, sagas: Sagas, principal: CurrentUser, actor: CurrentActor
) -> None:
    await delete_lesson(db, sagas, principal, actor, lesson_id)


@router.put("/{lesson_id}/content", summary="Replace the lesson's content (MongoDB)")
async def put_content(
    lesson_id: uuid.UUID,
    body: ContentIn,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> ManagedContentOut:
    return await replace_content.replace_content(db, mongo, principal, actor, lesson_id, body)


@router.put(
    "/{lesson_id}/progress",
    summary="Record my progress on a lesson",
    description="`time_spent_seconds` is added; steps are added to those done; `completed` "
    "marks the lesson done once and recomputes the course's progress. 200 when both databases "
    "are updated; 202 (`synced: false`) when MongoDB is unavailable: the totals are recorded "
    "and the detail follows automatically. Do not resend a 202.",
    responses={202: {"model": ProgressOut, "description": "Recorded; detail pending"}},
)
async def put_progress(
    lesson_id: uuid.UUID,
    body: ProgressIn,
    db: DbSession,
    mongo: MongoDb,
    sagas: Sagas,
    principal: CurrentUser,
    actor: CurrentActor,
) -> Response:
    result = await record_progress.record_progress(
        db, mongo, sagas, principal, actor, lesson_id, body
    )
    code = status.HTTP_200_OK if result.synced else status.HTTP_202_ACCEPTED
    return JSONResponse(result.model_dump(mode="json"), status_code=code)


@router.post(
    "/{lesson_id}/quiz",
    summary="Submit answers: graded on the server, stored as an attempt",
    responses={422: {"description": "Unknown exercise, wrong answer type or shape"}},
)
async def submit_quiz(
    lesson_id: uuid.UUID,
    body: QuizIn,
    db: DbSession,
    mongo: MongoDb,
    sagas: Sagas,
    principal: CurrentUser,
    actor: CurrentActor,
    idempotent: IdempotencyKey,
) -> QuizResultOut:
    return await quizzes.submit_quiz(
        db, mongo, sagas, principal, actor, lesson_id, body, idempotent
    )
