"""Lesson content: rich text, steps, resources and exercises with their answer keys.

Two views of the same document: managers (the course's teacher, administrators) get the answer
keys; learners get the *Public* models, which have no field that could carry one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from oneenglish.core.documents import encoded_size, storable_checker

ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Points = Annotated[int, Field(ge=1, le=100)]
AudioFile = Annotated[
    uuid.UUID | None,
    Field(
        description="Audio for the exercise (a listening prompt): a media file uploaded for "
        "this lesson (POST /api/files?purpose=lesson_media)"
    ),
]
Explanation = Annotated[
    Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None,
    Field(
        description="Why the answer is right: shown to learners with the correct answer, when "
        "the lesson's `show_answers` allows it"
    ),
]
RichText = Annotated[dict[str, Any], AfterValidator(storable_checker(max_bytes=256 * 1024))]
BLANK = "{{blank}}"
# A lesson's whole content document, whatever its parts (each part has its own bound too).
MAX_CONTENT_BYTES = 1024 * 1024


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(StrictIn):
    id: ItemId
    text: Annotated[str, StringConstraints(min_length=1, max_length=500)]


def _unique(ids: list[str], what: str) -> None:
    if len(ids) != len(set(ids)):
        raise ValueError(f"{what} ids must be unique")


class MultipleChoice(StrictIn):
    type: Literal["multiple_choice"]
    id: ItemId
    prompt: Text
    options: Annotated[list[Choice], Field(min_length=2, max_length=10)]
    correct_option_id: ItemId
    points: Points = 1
    audio_file_id: AudioFile = None
    explanation: Explanation = None

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> MultipleChoice:
        _unique([o.id for o in self.options], "option")
        if self.correct_option_id not in {o.id for o in self.options}:
            raise ValueError("correct_option_id must be one of the options")
        return self


class Blank(StrictIn):
    accepted: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=200)]],
        Field(min_length=1, max_length=10),
    ]


class FillInTheBlank(StrictIn):
    type: Literal["fill_in_blank"]
    id: ItemId
    prompt: Text = Field(description=f"Mark each gap with {BLANK}")
    blanks: Annotated[list[Blank], Field(min_length=1, max_length=20)]
    case_sensitive: bool = False
    points: Points = 1
    audio_file_id: AudioFile = None
    explanation: Explanation = None

    @model_validator(mode="after")
    def _one_gap_per_blank(self) -> FillInTheBlank:
        if self.prompt.count(BLANK) != len(self.blanks):
            raise ValueError(f"the prompt must contain one {BLANK} per blank")
        return self


class Matching(StrictIn):
    type: Literal["matching"]
    id: ItemId
    prompt: Text
    left: Annotated[list[Choice], Field(min_length=2, max_length=20)]
    right: Annotated[list[Choice], Field(min_length=2, max_length=20)]
    pairs: dict[ItemId, ItemId] = Field(description="left id -> right id, for every left item")
    points: Points = 1
    audio_file_id: AudioFile = None
    explanation: Explanation = None

    @model_validator(mode="after")
    def _pairs_cover_left(self) -> Matching:
        _unique([c.id for c in self.left], "left")
        _unique([c.id for c in self.right], "right")
        if set(self.pairs) != {c.id for c in self.left}:
            raise ValueError("pairs must map every left id")
        if not set(self.pairs.values()) <= {c.id for c in self.right}:
            raise ValueError("pairs must point at right ids")
        return self


class FreeText(StrictIn):
    type: Literal["free_text"]
    id: ItemId
    prompt: Text
    max_length: Annotated[int, Field(ge=1, le=5000)] = 1000
    accepted_answers: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=1000)]],
        Field(
            max_length=50,
            description="Right when the answer equals one of these after normalisation "
            "(case, spacing, punctuation and curly quotes ignored); none: a person grades it",
        ),
    ] = Field(default_factory=list)
    points: Points = 1
    audio_file_id: AudioFile = None
    explanation: Explanation = None


class Recording(StrictIn):
    """The learner records themselves (reading aloud, answering a question) and submits the
    audio; the course's teacher listens and scores it (POST /api/submissions/{id}/review)."""

    type: Literal["recording"]
    id: ItemId
    prompt: Text
    max_seconds: Annotated[int, Field(ge=5, le=600)] = 60
    points: Points = 1
    audio_file_id: AudioFile = None
    explanation: Explanation = None


Exercise = Annotated[
    MultipleChoice | FillInTheBlank | Matching | FreeText | Recording,
    Field(discriminator="type"),
]


class Step(StrictIn):
    id: ItemId
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Resource(StrictIn):
    type: Literal["link", "audio", "video", "image", "file"]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    url: AnyHttpUrl | None = Field(None, description="Elsewhere on the web (or file_id)")
    file_id: uuid.UUID | None = Field(
        None, description="A file uploaded for this lesson (POST /api/files?purpose=lesson_media)"
    )
    mime_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$")] | None = None
    size_bytes: Annotated[int, Field(ge=0, le=5 * 1024**3)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=86_400)] | None = None

    @model_validator(mode="after")
    def _one_place(self) -> Resource:
        if (self.url is None) == (self.file_id is None):
            raise ValueError("a resource has either a url or a file_id")
        return self


# The example /docs shows (and tests/core/test_openapi.py validates).
EXAMPLE_CONTENT: dict[str, Any] = {
    "body": {
        "type": "doc",
        "content": [
            {"type": "heading", "level": 2, "text": "My daily routine"},
            {"type": "paragraph", "text": "We use the present simple for habits."},
        ],
    },
    "steps": [{"id": "warm-up", "title": "Warm-up"}, {"id": "practice", "title": "Practice"}],
    "resources": [
        {
            "type": "audio",
            "title": "The example, read slowly",
            "url": "https://media.oneenglish.dev/a1/routine.mp3",
            "mime_type": "audio/mpeg",
        }
    ],
    "exercises": [
        {
            "type": "multiple_choice",
            "id": "choose",
            "prompt": "He ___ to work by bus.",
            "options": [{"id": "o1", "text": "go"}, {"id": "o2", "text": "goes"}],
            "correct_option_id": "o2",
        },
        {
            "type": "fill_in_blank",
            "id": "complete",
            "prompt": "She {{blank}} coffee every morning.",
            "blanks": [{"accepted": ["drinks"]}],
        },
    ],
}


class ContentIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CONTENT]})
    body: RichText = Field(default_factory=dict, description="Rich-text document (JSON)")
    steps: Annotated[list[Step], Field(max_length=100)] = Field(default_factory=list)
    resources: Annotated[list[Resource], Field(max_length=50)] = Field(default_factory=list)
    exercises: Annotated[list[Exercise], Field(max_length=100)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_unique(self) -> ContentIn:
        _unique([s.id for s in self.steps] + [e.id for e in self.exercises], "step and exercise")
        size = encoded_size(self.model_dump(mode="json"))
        if size > MAX_CONTENT_BYTES:
            raise ValueError(f"the content takes {size} bytes; at most {MAX_CONTENT_BYTES}")
        return self


# -- what learners see ---------------------------------------------------------------------


class PublicMultipleChoice(BaseModel):
    type: Literal["multiple_choice"]
    id: str
    prompt: str
    options: list[Choice]
    points: int
    audio_file_id: uuid.UUID | None = None


class PublicFillInTheBlank(BaseModel):
    type: Literal["fill_in_blank"]
    id: str
    prompt: str
    blanks: int
    points: int
    audio_file_id: uuid.UUID | None = None


class PublicMatching(BaseModel):
    type: Literal["matching"]
    id: str
    prompt: str
    left: list[Choice]
    right: list[Choice]
    points: int
    audio_file_id: uuid.UUID | None = None


class PublicFreeText(BaseModel):
    type: Literal["free_text"]
    id: str
    prompt: str
    max_length: int
    points: int
    audio_file_id: uuid.UUID | None = None


class PublicRecording(BaseModel):
    type: Literal["recording"]
    id: str
    prompt: str
    max_seconds: int
    points: int
    audio_file_id: uuid.UUID | None = None


PublicExercise = Annotated[
    PublicMultipleChoice | PublicFillInTheBlank | PublicMatching | PublicFreeText | PublicRecording,
    Field(discriminator="type"),
]


class ContentOut(BaseModel):
    lesson_id: uuid.UUID
    body: dict[str, Any]
    steps: list[Step]
    resources: list[Resource]
    exercises: list[PublicExercise]
    version: int
    updated_at: datetime


class ManagedContentOut(ContentOut):
    exercises: list[Exercise]  # type: ignore[assignment]
