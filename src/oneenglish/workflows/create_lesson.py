"""Create a lesson with its content: the row in PostgreSQL, the content document in MongoDB.

Like registration: the row, its audit entry and the intent commit together; the content is
written under the saga (a replace keyed by the lesson id); if MongoDB fails the row is deleted
again in the same transaction that marks the saga compensating, and the client gets a 503. A
lesson without content needs no saga: it is one PostgreSQL transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.content.schemas import ContentIn
from oneenglish.core.context import Actor
from oneenglish.core.errors import Unavailable
from oneenglish.core.principal import Principal
from oneenglish.lessons import service as lessons
from oneenglish.lessons.schemas import LessonIn, LessonOut
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.runner import SagaRunner
from oneenglish.sagas.workflow import (
    OnFailure,
    SagaKind,
    SagaPayload,
    Step,
    StepContext,
    Workflow,
    register,
)
from oneenglish.usecases.catalogue import refresh_if_published


class NewLessonContent(SagaPayload):
    lesson_id: uuid.UUID
    course_id: uuid.UUID
    content: dict[str, Any]  # the document content.to_document made of the validated input


KIND = SagaKind("create_lesson", NewLessonContent)
Context = StepContext[NewLessonContent]


async def _store_content(context: Context) -> None:
    new = context.payload
    await content.store_content(context.mongo, new.lesson_id, new.course_id, new.content)


async def _delete_content(context: Context) -> None:
    await content.delete_content(context.mongo, context.payload.lesson_id)


async def _delete_lesson_row(db: AsyncSession, context: Context) -> None:
    lesson_id = context.payload.lesson_id
    deleted = await lessons.delete_lesson_row(db, lesson_id)
    if deleted is not None:
        await refresh_if_published(db, deleted)
        audit.record(db, Actor.system(), "lesson.creation_undone", "lesson", lesson_id)


WORKFLOW = register(
    Workflow(
        kind=KIND,
        steps=(Step("content", _store_content, _delete_content),),
        on_failure=OnFailure.COMPENSATE,
        undo=_delete_lesson_row,
    )
)


async def create_lesson(
    db: AsyncSession,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    course_id: uuid.UUID,
    data: LessonIn,
    lesson_content: ContentIn | None,
) -> LessonOut:
    lesson_id = uuid.uuid4()
    lesson = await lessons.create_lesson(db, principal, actor, course_id, data, lesson_id=lesson_id)
    await refresh_if_published(db, lesson)
    if lesson_content is None:
        return lesson  # PostgreSQL only: the request's transaction commits it
    saga = enqueue(
        db,
        KIND,
        NewLessonContent(
            lesson_id=lesson_id,
            course_id=course_id,
            content=content.to_document(lesson_content),
        ),
        subject_id=lesson_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
    )
    await runner.commit_and_run(
        db,
        saga,
        or_raise=Unavailable(
            "MongoDB is unavailable, so the lesson was not created; nothing was kept. "
            "Retry shortly.",
            database="MongoDB",
        ),
    )
    return lesson
