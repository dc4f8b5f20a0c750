from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column
from oneenglish.db.postgres import Base


class MailDigest(Base):
    """One digest of a user's unread notifications: claimed once per user, frequency and
    period (the primary key decides between API processes running the same pass), and
    covering what came after the previous one up to `covered_until`."""

    __tablename__ = "mail_digests"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[str] = mapped_column(String(10), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-12-02, 2026-W49
    covered_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    notifications: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
