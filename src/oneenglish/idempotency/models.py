from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column
from oneenglish.db.postgres import Base


class IdempotencyKey(Base):
    """The first outcome of a creating request sent with an `Idempotency-Key`, kept 24 h so a
    client that retries (after a timeout, a lost connection, a 503 of unknown outcome) gets it
    again instead of a duplicate or a 409. Stored in the transaction of the change itself, so
    the row exists exactly when the change was committed."""

    __tablename__ = "idempotency_keys"

    # Whose key it is: `user:<id>` for a signed-in caller, `anon:<address>` for a sign-up.
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the method, path and body: the same key with another request is a 422.
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    # The user the stored response is about (the caller, or the account a sign-up created):
    # erased with them.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[Any] = mapped_column(JSONB, nullable=False)
    # The saga the outcome waits on (a sign-up's MongoDB documents): while it is pending a
    # retry is told to wait; if it was compensated the request may run again.
    saga_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)
