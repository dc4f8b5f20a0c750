from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class FileOut(BaseModel):
    id: str
    url: str = Field(description="Where it is read (GET, with Range for seeking)")
    purpose: Literal["lesson_media", "recording", "chat_attachment", "avatar"]
    content_type: str = Field(description="Read from the file's own bytes, not the client's claim")
    size: int
    sha256: str
    filename: str | None
    lesson_id: uuid.UUID | None
    uploaded_at: datetime


class SubmissionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"exercise_id": "read-aloud", "file_id": "0b7f1d4e-6a55-4f0e-9b0c-3f5d2a8e9c11"}
            ]
        },
    )
    exercise_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    file_id: uuid.UUID = Field(description="A recording you uploaded for this lesson")


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"score": 80, "comment": "Clear; work on the 'th'."}]},
    )
    score: Annotated[int, Field(ge=0, le=100, description="Percent")]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class SubmissionOut(BaseModel):
    id: str
    learner_id: uuid.UUID
    lesson_id: uuid.UUID
    course_id: uuid.UUID
    exercise_id: str
    file_url: str
    status: Literal["pending", "reviewed"]
    submitted_at: datetime
    score: int | None
    comment: str | None
    reviewed_at: datetime | None
