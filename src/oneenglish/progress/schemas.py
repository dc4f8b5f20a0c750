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
        0,
        description="Time studied since your previous update, added to the lesson's total "
        "within the wall clock: all your updates together (any lesson, any course, in "
        "parallel or not) are credited at most the real time that passed since your first "
        "one, plus a small slack; `time_credited_seconds` says what was counted",
    )
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    completed: bool = Field(
        False,
        description="Claim the lesson done (once; cannot be undone). A `manual` lesson is "
        "completed by this; any other only when its rule holds (every step done and, with "
        "exercises, a quiz attempt at or above the pass mark), else 409 naming what is "
        "missing. A lesson whose rule holds completes by itself, without this.",
    )


class CompletionMissing(BaseModel):
    """What a lesson's completion rule still needs."""

    missing_steps: list[str]
    pass_mark: int | None = Field(description="Set when a quiz attempt at this % is still needed")
    best_quiz_percent: float | None


class ProgressOut(BaseModel):
    lesson_id: uuid.UUID
    course_id: uuid.UUID
    enrollment_id: uuid.UUID
    time_spent_seconds: int = Field(description="The lesson's total, as credited")
    time_credited_seconds: int = Field(description="What this update added (the wall-clock rule)")
    completed_at: datetime | None
    missing: CompletionMissing | None = Field(
        None, description="While the lesson is not completed: what its rule still needs"
    )
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
    answer: dict[str, Any] | None = Field(None, description="Your answer (null: not answered)")
    correct_answer: dict[str, Any] | None = Field(
        None,
        description="The answer key in an answer's shape (a blank's or a free text's accepted "
        "answers as lists), when the lesson's `show_answers` allows it",
    )
    explanation: str | None = Field(None, description="The teacher's, with the correct answer")


ShowAnswers = Literal["after_each_attempt", "after_passing", "never"]


class QuizResultOut(BaseModel):
    attempt_id: uuid.UUID
    score: float
    max_score: int
    percent: float
    perfect: bool
    pass_mark: int
    passed: bool = Field(description="This attempt reached the lesson's pass mark")
    answers_shown: bool = Field(
        description="Whether `correct_answer` and `explanation` are filled (the lesson's "
        "`show_answers`: after each attempt, after passing, or never)"
    )
    lesson_completed_at: datetime | None = None
    missing: CompletionMissing | None = Field(
        None, description="While the lesson is not completed: what its rule still needs"
    )
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
