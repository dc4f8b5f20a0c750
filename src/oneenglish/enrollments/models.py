from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, updated_at_column, uuid_pk
from oneenglish.db.postgres import Base


class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # RESTRICT: a course with learners is deleted only on purpose (forced, by an admin).
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.id", ondelete="RESTRICT"), nullable=False
    )
    progress: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, server_default="0")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        Index("ix_enrollments_course_created", "course_id", "created_at", "id"),
        Index("ix_enrollments_user_created", "user_id", "created_at", "id"),
    )


class LessonActivity(Base):
    """A learner's exact totals for one lesson of an enrollment: time spent and completion.

    Kept in PostgreSQL so that concurrent updates are exact (row-level atomic increments) and
    the enrollment's progress is one aggregate away; MongoDB's lesson_progress carries the
    flexible detail (steps, notes, quiz attempts)."""

    __tablename__ = "lesson_activity"

    enrollment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("enrollments.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("lessons.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
    time_spent_seconds: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # What the lesson's completion rule is checked against, here so that the check is exact
    # under the enrollment's lock (MongoDB's copy of the steps is applied after the commit).
    completed_steps: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), nullable=False, server_default="{}"
    )
    best_quiz_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))

    __table_args__ = (
        CheckConstraint("time_spent_seconds >= 0", name="time_not_negative"),
        CheckConstraint(
            "best_quiz_percent IS NULL OR best_quiz_percent BETWEEN 0 AND 100",
            name="best_quiz_percent_range",
        ),
    )


class StudyClock(Base):
    """A learner's study clock: the wall-clock bound on the time they can be credited.

    Every credited second lies in [the first credit's start, credited_until]: an update that
    claims `s` seconds at `now` is credited at most the part of [now - s, now + slack] after
    credited_until, which then moves to the end of what was credited. So the time ever
    credited never exceeds the wall-clock time since the first study plus the slack, however
    many calls run in parallel or in a burst (enrollments/repository.py:credit_study_time)."""

    __tablename__ = "study_clocks"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    credited_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_credit_seconds: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")

    __table_args__ = (CheckConstraint("last_credit_seconds >= 0", name="credit"),)


class StudyDay(Base):
    """A day (UTC) on which a learner did something in a course: the history behind the
    active-learner reports (per course, and daily/weekly active users). Written with the
    lesson's totals, in the same statement (repository.add_activity)."""

    __tablename__ = "study_days"

    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_study_days_day_user", "day", "user_id"),)


class QuizAnswer(Base):
    """One exercise of one graded quiz attempt: what the per-exercise report averages. The
    attempt's full detail (the answers given) stays in MongoDB's lesson_progress."""

    __tablename__ = "quiz_answers"

    attempt_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enrollment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("enrollments.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    lesson_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    max_points: Mapped[int] = mapped_column(Integer, nullable=False)
    correct: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The learner's first attempt at the lesson: the report counts learners by these (a
    # count(DISTINCT user_id) would sort every answer of the course).
    first_attempt: Mapped[bool] = mapped_column(Boolean, nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        CheckConstraint("points >= 0 AND points <= max_points", name="points"),
        Index("ix_quiz_answers_course_submitted", "course_id", "submitted_at"),
        Index("ix_quiz_answers_enrollment_id", "enrollment_id"),
    )
