from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from oneenglish.users.schemas import Email, Password

# A mailed link's token: 32 bytes in unpadded base64url (core/security.py:link_token).
LinkToken = Annotated[
    str,
    Field(
        min_length=43,
        max_length=43,
        pattern=r"^[A-Za-z0-9_-]{43}$",
        description="The token from the link's `#token=` fragment",
    ),
]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


EXAMPLE_TOKEN = "Z0GCDo9a2v1DkeR9bt260J6vAGO8z5tOuOTrW-AoFq4"  # noqa: S105 - an example


class TokenIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"token": EXAMPLE_TOKEN}]})
    token: LinkToken


class PasswordResetIn(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ana.silva@example.com"}]})
    email: Email


class PasswordResetConfirmIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": EXAMPLE_TOKEN, "new_password": "Correct-horse-battery-9"}]
        }
    )
    token: LinkToken
    new_password: Password


class EmailChangeIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"new_email": "ana.new@example.com", "current_password": "…"}]
        }
    )
    new_email: Email
    current_password: Password


class Accepted(BaseModel):
    detail: str
