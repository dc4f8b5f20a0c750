from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from oneenglish.courses.schemas import Slug, Title

Duration = Annotated[int, Field(gt=0, le=1440, description="Minutes")]
Completion = Annotated[
    Literal["requirements", "manual"],
    Field(
        description="`requirements`: completed when every step is done and, with exercises, a "
        "quiz attempt reaches the pass mark; `manual`: the learner marks it done"
    ),
]
PassMark = Annotated[int, Field(ge=0, le=100, description="The quiz % that passes (default 70)")]
ShowAnswers = Annotated[
    Literal["after_each_attempt", "after_passing", "never"],
    Field(description="When a learner sees a quiz's correct answers and explanations"),
]


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
    completion: Completion = "requirements"
    pass_mark: PassMark = 70
    show_answers: ShowAnswers = "after_each_attempt"


class LessonPatch(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "My daily routine (revised)",
                    "duration_minutes": 25,
                    "pass_mark": 80,
                    "show_answers": "after_passing",
                }
            ]
        }
    )
    title: Title | None = None
    slug: Slug | None = None
    duration_minutes: Duration | None = None
    completion: Completion | None = None
    pass_mark: PassMark | None = None
    show_answers: ShowAnswers | None = None


class LessonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
