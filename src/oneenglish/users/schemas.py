from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    UrlConstraints,
)

from oneenglish.users.models import USERNAME_PATTERN

Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(str.lower)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
PersonName = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
# Length only here; the policy (with its message) is checked by the service.
Password = Annotated[str, Field(min_length=1, max_length=256)]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,48}$")]
DisplayName = Annotated[str, StringConstraints(max_length=60, strip_whitespace=True)]
AvatarUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=500, allowed_schemes=["https"])]
Badge = Literal["admin", "teacher", "learner"]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(StrictIn):
    """Self sign-up. No roles or flags here: mass assignment is impossible by construction."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana.silva@example.com",
                    "username": "anasilva",
                    "password": "Correct-horse-42",
                    "first_name": "Ana",
                    "last_name": "Silva",
                }
            ]
        }
    )

    email: Email
    username: Username
    password: Password
    first_name: PersonName = ""
    last_name: PersonName = ""


class UserCreateIn(RegisterIn):
    """Administrative creation: may choose roles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "emma.collins@example.com",
                    "username": "emmacollins",
                    "password": "Correct-horse-42",
                    "first_name": "Emma",
                    "last_name": "Collins",
                    "roles": ["teacher"],
                }
            ]
        }
    )

    roles: list[RoleName] = Field(default_factory=lambda: ["student"], max_length=20)


class UserPatch(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "first_name": "Ana María",
                    "display_name": "Ana S.",
                    "avatar_url": "https://media.oneenglish.dev/avatars/ana.png",
                }
            ]
        }
    )
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    display_name: DisplayName | None = Field(
        None, description="The name others see; an empty string goes back to the default"
    )
    avatar_url: AvatarUrl | None = Field(None, description="An https image URL others see")
    avatar_file_id: uuid.UUID | None = Field(
        None,
        description="An image you uploaded (POST /api/files?purpose=avatar): the avatar becomes "
        "`/api/files/{id}`, which anyone may read",
    )
    clear_avatar: bool = Field(False, description="Remove the avatar")
    is_active: bool | None = Field(None, description="Requires users:update")


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    username: str
    first_name: str
    last_name: str
    display_name: str | None = Field(description="Chosen; null: the default name is shown")
    avatar_url: str | None
    is_active: bool
    email_verified_at: datetime | None = Field(
        description="When the address was confirmed from a mailed link; null: not yet"
    )
    roles: list[str]
    created_at: datetime
    updated_at: datetime


class UserFilters(BaseModel):
    role: RoleName | None = None
    is_active: bool | None = None
    search: str | None = None


class UserCard(BaseModel):
    """What anyone who meets a user sees of them: never an email or anything private."""

    id: uuid.UUID
    display_name: str = Field(
        description="Their chosen name, else first name and last initial, else the username"
    )
    avatar_url: str | None
    badge: Badge = Field(description="admin, teacher or learner: the highest of their roles")
