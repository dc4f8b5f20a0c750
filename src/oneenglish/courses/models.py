from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from oneenglish.core.models import created_at_column, updated_at_column, uuid_pk
from oneenglish.db.postgres import Base

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# What the course search matches; the repository filters with the same expression so that the
# trigram index serves it.
SEARCH_SQL = "lower(title || ' ' || description)"


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(220), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    level: Mapped[str] = mapped_column(String(2), nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, server_default="0")
    # ISO 4217; a new course gets DEFAULT_CURRENCY unless it names one.
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")
    is_published: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # Lessons open in order: each once the previous published lesson is completed.
    sequential: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # The teacher who created it; kept (null) if that account is erased, for admins to reassign.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS}", name="level_cefr"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        # The catalogue's list query: published, by level, newest first.
        Index("ix_courses_published_level_created", "is_published", "level", "created_at", "id"),
        Index("ix_courses_created_at_id", "created_at", "id"),
        Index("ix_courses_price", "price"),
        Index(
            "ix_courses_search_trgm", text(f"({SEARCH_SQL}) gin_trgm_ops"), postgresql_using="gin"
        ),
    )


@dataclass(frozen=True, slots=True)
class CourseRow:
    """A course read on the driver (db.postgres.fetch_row): its columns, no ORM state."""

    id: uuid.UUID
    title: str
    slug: str
    description: str
    level: str
    price: Decimal
    currency: str
    is_published: bool
    sequential: bool
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
