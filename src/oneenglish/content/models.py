"""lesson_contents: one document per lesson, `_id` = the PostgreSQL lesson id."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference

COLLECTION = "lesson_contents"

register_indexes(
    IndexSpec(COLLECTION, (("lessonId", 1),), "uq_lesson_contents_lessonId", unique=True),
    IndexSpec(COLLECTION, (("courseId", 1),), "ix_lesson_contents_courseId"),
)
register_reference(
    Reference(COLLECTION, "lessonId", table="lessons"),
    Reference(COLLECTION, "courseId", table="courses"),
)
