"""The frames a client sends over `/api/ws` (README "Real time")."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from oneenglish.chat.schemas import MessageIn

EventId = Annotated[int, Field(ge=0, description="The last event id seen on that stream")]
ClientRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,255}$")]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthFrame(Frame):
    """The first frame, if the token was not in Sec-WebSocket-Protocol; later, a fresh token
    before the current one expires (the same user only)."""

    type: Literal["auth"]
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    last_event_id: EventId | None = None


class SubscribeFrame(Frame):
    type: Literal["subscribe"]
    room: uuid.UUID = Field(description="A course whose chat room the caller is in")
    last_event_id: EventId | None = None


class UnsubscribeFrame(Frame):
    type: Literal["unsubscribe"]
    room: uuid.UUID


class SendFrame(Frame):
    """A chat message, as `POST …/messages` takes it, to a person (`to`) or a room."""

    type: Literal["message.send"]
    ref: ClientRef = Field(
        description="The client's idempotency key: a resend is answered "
        "with the first outcome, never stored twice"
    )
    to: uuid.UUID | None = None
    room: uuid.UUID | None = None
    message: MessageIn

    @model_validator(mode="after")
    def _one_target(self) -> SendFrame:
        if (self.to is None) == (self.room is None):
            raise ValueError("name exactly one of `to` (a user) and `room` (a course)")
        return self


class TypingFrame(Frame):
    type: Literal["typing"]
    to: uuid.UUID


class PingFrame(Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    AuthFrame | SubscribeFrame | UnsubscribeFrame | SendFrame | TypingFrame | PingFrame,
    Field(discriminator="type"),
]
