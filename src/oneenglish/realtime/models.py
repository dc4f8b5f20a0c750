from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column
from oneenglish.db.postgres import Base

# Each commit that adds events tells every API process on this channel (pg_notify, which is
# transactional: sent at commit, never for a rollback), with a pointer, not the event.
CHANNEL = "oneenglish_realtime"


class RealtimeEvent(Base):
    """What a WebSocket pushes (realtime/): to one user (their stream), or to a course's chat
    room (the room's stream, to the members who subscribe). Ids increase in commit order
    within a stream (publishers of one stream take turns: realtime/repository.py), so a client
    that reconnects with the last id it saw gets exactly what it missed. Kept for
    REALTIME_EVENT_RETENTION_SECONDS."""

    __tablename__ = "realtime_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (course_id IS NULL)", name="one_stream"),
        Index("ix_realtime_events_user_id_id", "user_id", "id"),
        Index("ix_realtime_events_course_id_id", "course_id", "id"),
        Index("ix_realtime_events_created_at", "created_at"),
    )
