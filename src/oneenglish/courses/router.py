from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import Query, status
from pydantic import ConfigDict

from oneenglish.auth.dependencies import CatalogueReader, CurrentActor, CurrentUser
from oneenglish.content.schemas import EXAMPLE_CONTENT, ContentIn
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.routing import ApiRouter
from oneenglish.courses import service
from oneenglish.courses.schemas import (
    CourseFilters,
    CourseIn,
    CourseOut,
    CoursePatch,
    CourseSort,
    Level,
)
from oneenglish.db.postgres import DbSession
from oneenglish.db.replicas import ReadDbSession
from oneenglish.enrollments import service as enrollments
from oneenglish.enrollments.schemas import EnrollmentOut, RosterEntry
from oneenglish.idempotency.dependencies import IdempotencyKey
from oneenglish.lessons import service as lessons
from oneenglish.lessons.schemas import LessonIn, LessonOrderIn, LessonOut
from oneenglish.sagas.dependencies import Sagas
from oneenglish.workflows.create_lesson import create_lesson
from oneenglish.workflows.delete_course import delete_course

router = ApiRouter(prefix="/api/courses", tags=["courses"])


class LessonWithContentIn(LessonIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "My daily routine",
                    "duration_minutes": 20,
                    "is_published": True,
                    "content": EXAMPLE_CONTENT,
                }
            ]
        }
    )
    content: ContentIn | None = None


@router.get(
    "",
    summary="The catalogue: filter, search, sort and page (no token needed)",
    description="Public: without a token, published courses only (within "
    "ANONYMOUS_READS_PER_IP_PER_MINUTE per address); with one, also the drafts you may see.",
)
async def list_courses(
    db: ReadDbSession,
    principal: CatalogueReader,
    page: Pagination,
    level: Level | None = None,
    published: Annotated[
        bool | None, Query(description="Drafts are shown to their teacher and admins")
    ] = None,
    min_price: Annotated[Decimal | None, Query(ge=0)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0)] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    mine: Annotated[bool, Query(description="Only courses I created")] = False,
    sort: CourseSort = "newest",
) -> Page[CourseOut]:
    filters = CourseFilters(
        level=level,
        published=published,
        min_price=min_price,
        max_price=max_price,
        search=search,
        mine=mine,
        sort=sort,
    )
    items, total = await service.list_courses(db, principal, filters, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a course (courses:create)")
async def create_course(
    body: CourseIn,
    db: DbSession,
    settings: AppSettings,
    principal: CurrentUser,
    actor: CurrentActor,
) -> CourseOut:
    course = await service.create_course(db, principal, actor, body, settings.default_currency)
    return course


@router.get("/{course_id}", summary="A course (no token needed for a published one)")
async def get_course(
    course_id: uuid.UUID, db: ReadDbSession, principal: CatalogueReader
) -> CourseOut:
    return await service.read_course(db, principal, course_id)


@router.patch("/{course_id}", summary="Edit a course (its teacher, or courses:update)")
async def update_course(
    course_id: uuid.UUID,
    body: CoursePatch,
    db: DbSession,
    principal: CurrentUser,
    actor: CurrentActor,
) -> CourseOut:
    course = await service.update_course(db, principal, actor, course_id, body)
    return course


@router.post("/{course_id}/publish", summary="Publish a course")
async def publish_course(
    course_id: uuid.UUID, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> CourseOut:
    course = await service.set_published(db, principal, actor, course_id, True)
    return course


@router.post("/{course_id}/unpublish", summary="Withdraw a course from the catalogue")
async def unpublish_course(
    course_id: uuid.UUID, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> CourseOut:
    course = await service.set_published(db, principal, actor, course_id, False)
    return course


@router.delete(
    "/{course_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a course with its lessons, content and progress",
    description="409 while learners are enrolled, unless an administrator (courses:delete) "
    'passes force=true. If MongoDB is unavailable: 503 with `removal: "pending"`; the course '
    "is already withdrawn and the deletion completes by itself.",
)
async def remove_course(
    course_id: uuid.UUID,
    db: DbSession,
    sagas: Sagas,
    principal: CurrentUser,
    actor: CurrentActor,
    force: bool = False,
) -> None:
    await delete_course(db, sagas, principal, actor, course_id, force=force)


@router.get(
    "/{course_id}/lessons",
    summary="The course's lessons in order: titles, not content (no token needed)",
)
async def list_lessons(
    course_id: uuid.UUID, db: ReadDbSession, principal: CatalogueReader
) -> list[LessonOut]:
    return await lessons.list_lessons(db, principal, course_id)


@router.post(
    "/{course_id}/lessons",
    status_code=status.HTTP_201_CREATED,
    summary="Add a lesson, optionally with its content",
    description="With content, the lesson (PostgreSQL) and its content (MongoDB) are created "
    "together: 201 only when both exist; if MongoDB is unavailable, 503 and nothing is kept.",
)
async def add_lesson(
    course_id: uuid.UUID,
    body: LessonWithContentIn,
    db: DbSession,
    sagas: Sagas,
    principal: CurrentUser,
    actor: CurrentActor,
) -> LessonOut:
    data = LessonIn(**body.model_dump(exclude={"content"}))
    return await create_lesson(db, sagas, principal, actor, course_id, data, body.content)


@router.put("/{course_id}/lessons/order", summary="Reorder every lesson of the course")
async def reorder_lessons(
    course_id: uuid.UUID,
    body: LessonOrderIn,
    db: DbSession,
    principal: CurrentUser,
    actor: CurrentActor,
) -> list[LessonOut]:
    ordered = await lessons.reorder(db, principal, actor, course_id, body.lesson_ids)
    return ordered


@router.post(
    "/{course_id}/enrollments",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol in a published free course",
    description="With an `Idempotency-Key`, a retry gets the first enrolment back (201) "
    "instead of a 409.",
    responses={
        402: {
            "description": "A paid course: it is bought with POST /api/courses/{id}/checkout "
            "(`checkout` names it), and enrolled when the payment is confirmed"
        },
        409: {"description": "Already enrolled, or the course is not published"},
    },
)
async def enroll(
    course_id: uuid.UUID,
    db: DbSession,
    settings: AppSettings,
    principal: CurrentUser,
    actor: CurrentActor,
    idempotent: IdempotencyKey,
) -> EnrollmentOut:
    enrollment = await enrollments.enroll(db, settings, principal, actor, course_id, idempotent)
    return enrollment


@router.get(
    "/{course_id}/enrollments",
    summary="The course's learners (its teacher, or enrollments:read)",
)
async def course_enrollments(
    course_id: uuid.UUID, db: DbSession, principal: CurrentUser, page: Pagination
) -> Page[RosterEntry]:
    items, total = await enrollments.list_of_course(
        db, principal, course_id, page.page_size, page.offset
    )
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)
