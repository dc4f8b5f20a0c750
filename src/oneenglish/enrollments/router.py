from __future__ import annotations

import uuid

from fastapi import status

from oneenglish.auth.dependencies import CurrentActor, CurrentUser
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.enrollments import service
from oneenglish.enrollments.schemas import MyEnrollmentOut
from oneenglish.progress.schemas import MyLearningOut
from oneenglish.sagas.dependencies import Sagas
from oneenglish.views import my_learning
from oneenglish.workflows import leave_course as leaving

router = ApiRouter(tags=["enrollments"])


@router.get("/api/me/enrollments", summary="My enrollments with progress")
async def my_enrollments(
    db: DbSession, principal: CurrentUser, page: Pagination
) -> Page[MyEnrollmentOut]:
    items, total = await service.list_mine(db, principal, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.delete(
    "/api/enrollments/{enrollment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave a course (yourself; the course's teacher or enrollments:delete for others)",
)
async def leave_course(
    enrollment_id: uuid.UUID,
    db: DbSession,
    sagas: Sagas,
    principal: CurrentUser,
    actor: CurrentActor,
) -> None:
    await leaving.leave_course(db, sagas, principal, actor, enrollment_id)


@router.get(
    "/api/me/progress",
    summary="My learning per enrolled course",
    description="Progress, lessons done, time spent and last activity (one PostgreSQL "
    "aggregate) with quiz attempts and average (one MongoDB aggregation), read concurrently. "
    'MongoDB unavailable: quiz fields null and `degraded: ["mongodb"]`.',
)
async def my_progress(db: DbSession, mongo: MongoDb, principal: CurrentUser) -> MyLearningOut:
    return await my_learning.my_learning(db, mongo, principal)
