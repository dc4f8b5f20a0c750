from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oneenglish.users.schemas import Password, UserOut


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(StrictIn):
    """Log in with the email or the username."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "learner0001@demo.oneenglish.dev", "password": "Learn-English-2026"}
            ]
        }
    )

    email: Annotated[str, Field(max_length=254)] | None = None
    username: Annotated[str, Field(max_length=254)] | None = None
    password: Password

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginIn:
        if (self.email is None) == (self.username is None):
            raise ValueError("give exactly one of email or username")
        return self

    @property
    def identifier(self) -> str:
        return self.email or self.username or ""


class RefreshIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "kq3J1x9V2m5Qe8ZrT0bWcY4nH7uLpA6s"}]}
    )
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class ChangePasswordIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"current_password": "Correct-horse-42", "new_password": "Battery-staple-2026"}
            ]
        }
    )
    current_password: Password
    new_password: Password


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires")


class MeOut(UserOut):
    permissions: list[str]
