from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, updated_at_column, uuid_pk
from oneenglish.db.postgres import Base

PENDING = "pending"
COMPENSATING = "compensating"
COMPLETED = "completed"
COMPENSATED = "compensated"
FAILED = "failed"
UNFINISHED = (PENDING, COMPENSATING)
STATUSES = (PENDING, COMPENSATING, COMPLETED, COMPENSATED, FAILED)


class Saga(Base):
    """The durable log of one operation that writes both databases.

    Inserted in the same transaction as the PostgreSQL change it belongs to, so the intent exists
    exactly when the change does. Its MongoDB steps are idempotent; `steps` records each one's
    completion and how many times it ran."""

    __tablename__ = "sagas"

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=PENDING)
    # The main entity (a user id, a lesson id): lets reconcile skip entities still in flight.
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The users whose data the saga writes: its steps run only for users not being erased
    # (under a share lock on their rows), and an erasure scrubs the payloads that name them.
    user_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'::uuid[]")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    steps: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # Not picked up by recovery before this time: a lease for the request that runs it first,
    # then the retry backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'compensating', 'completed', 'compensated', 'failed')",
            name="status_known",
        ),
        # The relay's query: unfinished and due. Partial, so it stays small as history grows.
        Index(
            "ix_sagas_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'compensating')"),
        ),
        Index(
            "ix_sagas_subject_unfinished",
            "subject_id",
            postgresql_where=text("status IN ('pending', 'compensating')"),
        ),
        Index(
            "ix_sagas_finished_at",
            "finished_at",
            postgresql_where=text("finished_at IS NOT NULL"),
        ),
        Index("ix_sagas_user_ids", "user_ids", postgresql_using="gin"),
    )
