from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.db.postgres import Base


class RateLimit(Base):
    """Hits of one limited action by one actor (`signup:ip:…`, `dm:sender:…`) in a fixed
    window, shared by every API process. A row whose window has ended is reset by the next
    hit and deleted by the maintenance loop."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    window_seconds: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_rate_limits_window_started_at", "window_started_at"),)
