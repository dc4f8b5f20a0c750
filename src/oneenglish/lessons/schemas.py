from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from oneenglish.courses.schemas import Slug, Title

Duration = Annotated[int, Field(gt=0, le=1440, description="Minutes")]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LessonIn(StrictIn):
    title: Title
    slug: Slug | None = Field(None, description="Generated from the title when left out")
    order: int | None = Field(
        None, ge=1, le=10_000, description="Position to insert at (later lessons move down)"
    )
    duration_minutes: Duration
    is_published: bool = False


class LessonPatch(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"title": "My daily routine (revised)", "duration_minutes": 25}]
        }
    )
    title: Title | None = None
    slug: Slug | None = None
    duration_minutes: Duration | None = None


class LessonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    slug: str
    order: int
    duration_minutes: int
    is_published: bool
    created_at: datetime
    updated_at: datetime


class LessonOrderIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lesson_ids": [
                        "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                        "3f2b9a4c-6d1e-4f7a-9b2c-8e5d4a1c7f60",
                    ]
                }
            ]
        }
    )
    lesson_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
