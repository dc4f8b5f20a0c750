from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from oneenglish.content.schemas import ItemId
from oneenglish.sagas.workflow import SagaPayload

# One update may add at most four hours: more is a client bug or abuse, not study.
MAX_SECONDS_PER_UPDATE = 4 * 3600


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgressIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "completed_steps": ["warm-up", "practice"],
                    "time_spent_seconds": 600,
                    "notes": "Review the irregular verbs again.",
                }
            ]
        }
    )
    completed_steps: Annotated[list[ItemId], Field(max_length=200)] = Field(
        default_factory=list, description="Step or exercise ids, added to those already done"
    )
    time_spent_seconds: Annotated[int, Field(ge=0, le=MAX_SECONDS_PER_UPDATE)] = Field(
        0, description="Added to the time already spent on this lesson"
    )
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    completed: bool = Field(False, description="Mark the lesson completed (once; cannot be undone)")


class ProgressOut(BaseModel):
    lesson_id: uuid.UUID
    course_id: uuid.UUID
    enrollment_id: uuid.UUID
    time_spent_seconds: int
    completed_at: datetime | None
    course_progress: Decimal
    course_completed_at: datetime | None
    synced: bool = Field(
        description="False when MongoDB was unavailable: the PostgreSQL totals are recorded and "
        "the steps and notes are applied automatically once MongoDB is back (202)"
    )


class LessonProgressOut(BaseModel):
    """A learner's detail for one lesson (MongoDB)."""

    lesson_id: str
    completed_steps: list[str]
    time_spent_seconds: int
    notes: str
    completed_at: datetime | None
    quiz_attempts: int
    best_percent: float | None
    last_activity_at: datetime | None


class ChoiceAnswer(StrictIn):
    type: Literal["multiple_choice"]
    exercise_id: ItemId
    option_id: ItemId


class BlanksAnswer(StrictIn):
    type: Literal["fill_in_blank"]
    exercise_id: ItemId
    blanks: Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=20)]


class PairsAnswer(StrictIn):
    type: Literal["matching"]
    exercise_id: ItemId
    pairs: Annotated[dict[ItemId, ItemId], Field(max_length=20)]


class TextAnswer(StrictIn):
    type: Literal["free_text"]
    exercise_id: ItemId
    text: Annotated[str, StringConstraints(max_length=5000)]


Answer = Annotated[
    ChoiceAnswer | BlanksAnswer | PairsAnswer | TextAnswer, Field(discriminator="type")
]


class QuizIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answers": [
                        {"type": "multiple_choice", "exercise_id": "choose", "option_id": "o2"},
                        {"type": "fill_in_blank", "exercise_id": "complete", "blanks": ["drinks"]},
                    ]
                }
            ]
        }
    )
    answers: Annotated[list[Answer], Field(min_length=1, max_length=100)]


class ExerciseResult(BaseModel):
    exercise_id: str
    type: str
    points: float
    max_points: int
    correct: bool
    needs_review: bool = False


class QuizResultOut(BaseModel):
    attempt_id: uuid.UUID
    score: float
    max_score: int
    percent: float
    perfect: bool
    results: list[ExerciseResult]
    recorded: bool = Field(description="False while MongoDB is unavailable (applied later)")


class CourseLearning(BaseModel):
    course_id: uuid.UUID
    course_title: str | None
    enrollment_id: uuid.UUID
    progress: Decimal
    completed_at: datetime | None
    lessons_total: int
    lessons_completed: int
    time_spent_seconds: int
    last_activity_at: datetime | None
    quiz_attempts: int | None
    quiz_average_percent: float | None


class MyLearningOut(BaseModel):
    courses: list[CourseLearning]
    degraded: list[str]


class ProgressDetail(SagaPayload):
    """A recorded progress update, on its way to lesson_progress: PostgreSQL's totals at the
    time, and the steps and notes the learner sent."""

    user_id: str
    lesson_id: str
    course_id: str
    enrollment_id: str
    steps: list[str]
    time_spent_total: int
    completed_at: datetime | None
    notes: str | None
    at: datetime

    @property
    def key(self) -> str:
        """The learner's detail for this lesson: lesson_progress `_id`, the audit entity id."""
        return f"{self.user_id}:{self.lesson_id}"


class QuizAttemptRecord(SagaPayload):
    """A graded quiz attempt, on its way to lesson_progress (its `attempt` is the stored
    document's shape, camelCase)."""

    user_id: str
    lesson_id: str
    course_id: str
    enrollment_id: str
    attempt: dict[str, Any]
