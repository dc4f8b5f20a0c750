from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column
from oneenglish.db.postgres import Base


class UserBlock(Base):
    """`blocker` does not want to hear from `blocked`: neither may message the other."""

    __tablename__ = "user_blocks"

    blocker_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        # "Has either blocked the other?" looks both ways; the primary key serves one.
        Index("ix_user_blocks_blocked_blocker", "blocked_id", "blocker_id"),
        Index("ix_user_blocks_blocker_created", "blocker_id", "created_at"),
    )
