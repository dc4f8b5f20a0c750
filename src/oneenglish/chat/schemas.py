from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from oneenglish.users.schemas import UserCard

MAX_MESSAGE = 4000
MessageType = Literal["text", "image", "file", "audio"]
MessageText = Annotated[str, StringConstraints(max_length=MAX_MESSAGE)]


# The largest chat request body (and WebSocket frame, realtime/): a message of MAX_MESSAGE
# characters with its attachments fits.
MAX_REQUEST_BYTES = 64 * 1024


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attachment(StrictIn):
    url: AnyHttpUrl
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    mime_type: Annotated[
        str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$", max_length=100)
    ]
    size_bytes: Annotated[int, Field(ge=0, le=50 * 1024 * 1024)]
    duration_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None


class MessageIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"message": "Hi! Do you want to practise speaking together this week?"}]
        }
    )
    message: MessageText = ""
    message_type: MessageType = "text"
    attachments: Annotated[list[Attachment], Field(max_length=10)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _type_matches_content(self) -> MessageIn:
        if self.message_type == "text":
            if not self.message.strip():
                raise ValueError("a text message needs text")
            if self.attachments:
                raise ValueError("a text message has no attachments")
        else:
            if not self.attachments:
                raise ValueError(f"an {self.message_type} message needs an attachment")
            family = {"image": "image/", "audio": "audio/"}.get(self.message_type)
            if family and not all(a.mime_type.startswith(family) for a in self.attachments):
                raise ValueError(f"{self.message_type} attachments must be {family}*")
        return self


class MessageEdit(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"message": "See you on Thursday at 7 pm!"}]}
    )
    message: Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    sender_id: uuid.UUID
    sender: UserCard | None = Field(None, description="The sender's public card")
    receiver_id: uuid.UUID | None
    room_id: uuid.UUID | None
    message: str
    message_type: MessageType
    attachments: list[Attachment]
    created_at: datetime
    edited_at: datetime | None
    deleted: bool


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class ConversationOut(BaseModel):
    conversation_id: str
    kind: Literal["direct", "room"]
    peer_id: uuid.UUID | None = None
    peer: UserCard | None = Field(None, description="The other person's public card")
    course_id: uuid.UUID | None = None
    last_message_at: datetime | None
    unread: int


class Conversations(BaseModel):
    conversations: list[ConversationOut]
