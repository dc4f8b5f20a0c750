from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from oneenglish.core.documents import StorableObject

Platform = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,29}$")]
# A phone number as people write one (digits, spaces, +, -, parentheses), or "" to clear it.
Phone = Annotated[str, StringConstraints(pattern=r"^(\+?[0-9][0-9 ()-]{2,30})?$")]


class ProfileOut(BaseModel):
    user_id: str
    bio: str
    address: str
    city: str
    phone: str
    date_of_birth: date | None
    social_links: dict[str, str]
    preferences: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ProfilePatch(BaseModel):
    """Fields left out stay as they are; social_links and preferences are replaced whole."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bio": "Learning English for work. Level B1.",
                    "city": "Valencia",
                    "date_of_birth": "1994-05-17",
                    "preferences": {"dailyMinutes": 20},
                }
            ]
        },
        extra="forbid",
    )

    bio: Annotated[str, StringConstraints(max_length=2000)] | None = None
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    phone: Phone | None = None
    date_of_birth: date | None = Field(None, ge=date(1900, 1, 1), le=date(2100, 1, 1))
    social_links: Annotated[dict[Platform, AnyHttpUrl], Field(max_length=20)] | None = None
    preferences: StorableObject | None = None
