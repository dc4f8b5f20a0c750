from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, updated_at_column, uuid_pk
from oneenglish.courses.models import SLUG_PATTERN
from oneenglish.db.postgres import Base

COMPLETION_POLICIES = ("requirements", "manual")
ANSWER_POLICIES = ("after_each_attempt", "after_passing", "never")


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[uuid.UUID] = uuid_pk()
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(220), nullable=False)
    # Position within the course, 1..n, dense. Deferrable so a reorder can pass through
    # duplicate positions inside its transaction.
    order: Mapped[int] = mapped_column("order", Integer, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    is_published: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # How the lesson is completed (progress/completion.py): `requirements` (every step done and,
    # with exercises, a quiz attempt at or above pass_mark) or `manual` (the learner marks it).
    completion: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default="requirements"
    )
    pass_mark: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="70")
    # When a learner sees the correct answers and explanations of a quiz attempt.
    show_answers: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default="after_each_attempt"
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        UniqueConstraint(
            "course_id",
            "order",
            deferrable=True,
            initially="IMMEDIATE",
            name="uq_lessons_course_id_order",
        ),
        CheckConstraint('"order" > 0', name="order_positive"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_range"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint(f"completion IN {COMPLETION_POLICIES}", name="completion_policy"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_range"),
        CheckConstraint(f"show_answers IN {ANSWER_POLICIES}", name="show_answers_policy"),
        Index("ix_lessons_course_published", "course_id", "is_published"),
    )


@dataclass(frozen=True, slots=True)
class LessonRow:
    """A lesson read on the driver (db.postgres.fetch_row): its columns, no ORM state."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    slug: str
    order: int
    duration_minutes: int
    is_published: bool
    completion: str
    pass_mark: int
    show_answers: str
    created_at: datetime
    updated_at: datetime
