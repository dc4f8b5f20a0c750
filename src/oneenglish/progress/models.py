"""lesson_progress: one document per learner and lesson, `_id` = "<userId>:<lessonId>".

Updates are idempotent and commutative so the saga runner may repeat or reorder them: steps are
added as a set, totals copied from PostgreSQL with $max, quiz attempts pushed only if their id is
not there yet."""

from __future__ import annotations

from oneenglish.db.mongo import (
    IndexSpec,
    Reference,
    register_indexes,
    register_reference,
)
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "lesson_progress"

register_indexes(
    IndexSpec(
        COLLECTION, (("userId", 1), ("lessonId", 1)), "uq_lesson_progress_user_lesson", unique=True
    ),
    IndexSpec(COLLECTION, (("userId", 1), ("courseId", 1)), "ix_lesson_progress_user_course"),
    IndexSpec(COLLECTION, (("lessonId", 1),), "ix_lesson_progress_lessonId"),
    IndexSpec(COLLECTION, (("enrollmentId", 1),), "ix_lesson_progress_enrollmentId"),
    IndexSpec(COLLECTION, (("courseId", 1),), "ix_lesson_progress_courseId"),
)
register_reference(
    Reference(COLLECTION, "userId"),
    Reference(COLLECTION, "lessonId", table="lessons"),
    Reference(COLLECTION, "courseId", table="courses"),
    Reference(COLLECTION, "enrollmentId", table="enrollments"),
)


def progress_key(user_id: str, lesson_id: str) -> str:
    return f"{user_id}:{lesson_id}"


# The list and aggregation queries above, as (equality fields, sort fields): checked against the
# declared indexes in tests.
LIST_QUERIES = ((COLLECTION, ("userId",), ("courseId",)),)

register_plans(
    CollectionPlan(
        COLLECTION,
        (("userId", 1), ("lessonId", 1)),
        "a document per learner and lesson, read by learner (their progress page) and by the "
        "unique (userId, lessonId), which must start with the key; point reads name both",
    )
)
