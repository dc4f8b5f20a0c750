from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from oneenglish.core.documents import StorableObject

Platform = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,29}$")]


class ProfileOut(BaseModel):
    user_id: str
    bio: str
    address: str
    city: str
    social_links: dict[str, str]
    preferences: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ProfilePatch(BaseModel):
    """Fields left out stay as they are; social_links and preferences are replaced whole."""

    model_config = ConfigDict(extra="forbid")

    bio: Annotated[str, StringConstraints(max_length=2000)] | None = None
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    social_links: Annotated[dict[Platform, AnyHttpUrl], Field(max_length=20)] | None = None
    preferences: StorableObject | None = None
