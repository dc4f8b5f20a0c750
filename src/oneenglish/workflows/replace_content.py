"""Replace a lesson's content: checked against the lesson in PostgreSQL (its course's teacher or
an administrator), stored in MongoDB (the lesson row is not changed), and audited to the
database that took the change, since there is no PostgreSQL transaction to ride along; both
MongoDB writes are made while the teacher is not being erased (workflows/live_users.py), as
the entry carries their address."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.content import service as content
from oneenglish.content.schemas import ManagedContentOut
from oneenglish.core.context import Actor
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database
from oneenglish.files import service as files
from oneenglish.lessons import service as lessons
from oneenglish.workflows.live_users import live_users


async def replace_content(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: Any,
) -> ManagedContentOut:
    """Replace a lesson's content (MongoDB only; the lesson row is not changed)."""
    course_id = (await lessons.get_managed(db, principal, lesson_id)).course.id
    await db.rollback()  # release the course lock before the MongoDB write
    await files.ensure_lesson_media(mongo, lesson_id, content.file_ids(body))
    # The audit entry carries the teacher's address: written only while they are not erased.
    async with live_users(db, [principal.id]):
        document = await content.store_content(
            mongo, lesson_id, course_id, content.to_document(body)
        )
        await audit.write_now(
            mongo,
            actor,
            "lesson.content_replaced",
            "lesson",
            lesson_id,
            after={
                "version": document["version"],
                "exercises": len(document.get("exercises", [])),
            },
        )
    shown = content.view(document, with_answers=True)
    assert isinstance(shown, ManagedContentOut)
    return shown
