"""lesson_contents: one document per lesson, `_id` = the PostgreSQL lesson id."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "lesson_contents"

register_indexes(
    IndexSpec(COLLECTION, (("lessonId", 1),), "uq_lesson_contents_lessonId", unique=True),
    IndexSpec(COLLECTION, (("courseId", 1),), "ix_lesson_contents_courseId"),
)
register_reference(
    Reference(COLLECTION, "lessonId", table="lessons"),
    Reference(COLLECTION, "courseId", table="courses"),
)

register_plans(
    CollectionPlan(
        COLLECTION,
        None,
        "one document per lesson, written by teachers, read by every learner of the lesson: "
        "read-mostly, scaled by secondaries (MONGODB_READ_MOSTLY_PREFERENCE), not by shards",
        read_mostly=True,
    )
)
