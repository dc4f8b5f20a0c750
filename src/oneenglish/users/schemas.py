from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from oneenglish.users.models import USERNAME_PATTERN

Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(str.lower)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
PersonName = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
# Length only here; the policy (with its message) is checked by the service.
Password = Annotated[str, Field(min_length=1, max_length=256)]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,48}$")]


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
    model_config = ConfigDict(json_schema_extra={"examples": [{"first_name": "Ana María"}]})
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    is_active: bool | None = Field(None, description="Requires users:update")


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    username: str
    first_name: str
    last_name: str
    is_active: bool
    roles: list[str]
    created_at: datetime
    updated_at: datetime


class UserFilters(BaseModel):
    role: RoleName | None = None
    is_active: bool | None = None
    search: str | None = None
