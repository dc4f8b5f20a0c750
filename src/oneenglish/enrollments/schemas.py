from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from oneenglish.users.schemas import UserCard


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    progress: Decimal
    completed_at: datetime | None
    last_activity_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RosterEntry(EnrollmentOut):
    learner: UserCard | None = Field(description="The learner's public card")


class CourseSummary(BaseModel):
    id: uuid.UUID
    title: str
    slug: str
    level: str


class MyEnrollmentOut(EnrollmentOut):
    course: CourseSummary | None


class CourseProgress(BaseModel):
    """One enrolled course, from PostgreSQL's aggregate."""

    enrollment_id: uuid.UUID
    course_id: uuid.UUID
    progress: Decimal
    completed_at: datetime | None
    lessons_total: int
    lessons_completed: int
    time_spent_seconds: int
    last_activity_at: datetime | None
