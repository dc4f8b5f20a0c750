from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, updated_at_column, uuid_pk
from oneenglish.db.postgres import Base

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
# What the user search matches against; the repository's filter uses the same expression.
SEARCH_SQL = "lower(email || ' ' || username || ' ' || first_name || ' ' || last_name)"


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    username: Mapped[str] = mapped_column(String(32), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    last_name: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    # What other people see of the user (users/service.py:cards): null means the default name.
    display_name: Mapped[str | None] = mapped_column(String(60))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # When the user proved they read mail at `email` (accounts/service.py); cleared by nothing
    # but an email change, which is itself confirmed from the new address.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the erasure starts (the row goes when it ends): from then on nothing may write
    # the user's data. Every such write checks it under a share lock on this row, which the
    # erasure's first transaction takes exclusively (workflows/erase_user.py).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        # Case-insensitive uniqueness lives in the database, not only in Python.
        Index("uq_users_email_lower", func.lower(email), unique=True),
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("ix_users_created_at_id", "created_at", "id"),
        # Trigram index for the administrators' substring search (pg_trgm, migration 0002).
        Index(
            "ix_users_search_trgm",
            text(f"({SEARCH_SQL}) gin_trgm_ops"),
            postgresql_using="gin",
        ),
        CheckConstraint("position('@' in email) > 1", name="email_has_at"),
        CheckConstraint(f"username ~ '{USERNAME_PATTERN}'", name="username_format"),
    )
