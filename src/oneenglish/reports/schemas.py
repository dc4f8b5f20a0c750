"""Reports for teachers and administrators ("Analytics y métricas"): each a bounded table of
rows, also served as CSV."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Bucket = Literal["day", "week"]
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 90


class DateRange(BaseModel):
    """Inclusive dates (UTC)."""

    start: date = Field(alias="from")
    end: date = Field(alias="to")

    model_config = {"populate_by_name": True}


class CountPoint(BaseModel):
    period_start: datetime
    count: int


class SeriesReport(BaseModel):
    range: DateRange
    bucket: Bucket
    points: list[CountPoint] = Field(description="Periods with at least one, oldest first")
    total: int | None = Field(
        description="The sum of the points (null for active people, who count once a period)"
    )


class FunnelStep(BaseModel):
    lesson_id: uuid.UUID
    order: int
    title: str
    started: int = Field(description="Learners active on the lesson in the range")
    completed: int = Field(description="Learners who completed it in the range")
    completion_rate: float = Field(description="completed / enrolled learners, %")


class FunnelReport(BaseModel):
    range: DateRange
    enrolled: int
    lessons: list[FunnelStep] = Field(description="Published lessons, in course order")


class TimeBucket(BaseModel):
    from_minutes: int
    to_minutes: int | None = Field(description="Exclusive; null: and more")
    learners: int


class TimeSpentReport(BaseModel):
    range: DateRange
    buckets: list[TimeBucket] = Field(
        description="Learners active in the range by their total time in the course"
    )


class TopCourse(BaseModel):
    course_id: uuid.UUID
    title: str | None
    enrolments: int
    completed: int


class TopCoursesReport(BaseModel):
    range: DateRange
    courses: list[TopCourse]


class ExerciseStat(BaseModel):
    lesson_id: uuid.UUID
    lesson_order: int | None = Field(description="null: the lesson is no longer published")
    lesson_title: str | None
    exercise_id: str
    type: str
    prompt: str | None = Field(description="null: the exercise is no longer in the lesson")
    attempts: int
    learners: int = Field(description="Learners whose first attempt at the lesson is in the range")
    average_percent: float = Field(description="Points scored over points possible, %")
    correct_rate: float = Field(description="Attempts that got it fully right, %")


class ExerciseReport(BaseModel):
    range: DateRange
    exercises: list[ExerciseStat] = Field(description="Lowest average first (the hardest)")


class RevenuePoint(BaseModel):
    period_start: date
    currency: str
    gross: str = Field(description="Paid orders' totals in the period", examples=["39.98"])
    refunded: str = Field(description="Refunds made in the period", examples=["19.99"])
    net: str = Field(description="gross - refunded", examples=["19.99"])
    orders: int = Field(description="Orders paid in the period")


class RevenueReport(BaseModel):
    range: DateRange
    bucket: Bucket
    points: list[RevenuePoint] = Field(description="Periods with money in or out, per currency")
