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
    """A file elsewhere (`url`, with its name, type and size), or one uploaded for this
    conversation (`file_id`: POST /api/files?purpose=chat_attachment), whose name, type and
    size the server fills in from the file itself."""

    url: AnyHttpUrl | None = None
    file_id: uuid.UUID | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    mime_type: (
        Annotated[str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$", max_length=100)]
        | None
    ) = None
    size_bytes: Annotated[int, Field(ge=0, le=50 * 1024 * 1024)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None

    @model_validator(mode="after")
    def _a_url_or_a_file(self) -> Attachment:
        if (self.url is None) == (self.file_id is None):
            raise ValueError("an attachment has either a url or a file_id")
        if self.url is not None and None in (self.name, self.mime_type, self.size_bytes):
            raise ValueError("an attachment by url needs its name, mime_type and size_bytes")
        return self


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
            if not self.attachments_match_type():
                raise ValueError(f"{self.message_type} attachments must be {self.family}*")
        return self

    @property
    def family(self) -> str | None:
        return {"image": "image/", "audio": "audio/"}.get(self.message_type)

    def attachments_match_type(self) -> bool:
        """Those whose type is known (an uploaded file's is known once it is looked up)."""
        family = self.family
        return not family or all(
            a.mime_type.startswith(family) for a in self.attachments if a.mime_type is not None
        )


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
