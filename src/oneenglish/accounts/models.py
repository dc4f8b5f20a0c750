from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, uuid_pk
from oneenglish.db.postgres import Base

PURPOSES = ("verify_email", "password_reset", "email_change", "email_change_undo")


class AccountToken(Base):
    """The token of a link mailed to a user: to verify an address, reset a password, confirm
    an email change from the new address or undo it from the old one. The token itself is
    stored nowhere (core/security.py:link_token); its SHA-256 finds the row. Single use
    (`used_at`), expiring, and ended early (`used_at` too) by whatever supersedes it."""

    __tablename__ = "account_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    # The address the link is about: the one to verify, the new one to confirm, or the old
    # one an undo restores.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_account_tokens_user_purpose", "user_id", "purpose"),
        Index("ix_account_tokens_expires_at", "expires_at"),
        CheckConstraint(
            "purpose IN (" + ", ".join(f"'{p}'" for p in PURPOSES) + ")", name="purpose"
        ),
    )
