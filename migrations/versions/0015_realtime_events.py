"""Real-time events (realtime/): what WebSockets push, kept for replay after a reconnect, to a
user's stream or a course room's. A user's own events are their rows under Row Level Security
(room events are read for the system, after a membership check); both go with the user or the
course (ON DELETE CASCADE). Nothing to backfill: streams start empty.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 21:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN_ROWS = "app_is_system() OR user_id = app_user_id()"


def upgrade() -> None:
    op.create_table(
        "realtime_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("user_id", sa.UUID()),
        sa.Column("course_id", sa.UUID()),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (course_id IS NULL)", name=op.f("ck_realtime_events_one_stream")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_realtime_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_realtime_events_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realtime_events")),
    )
    op.create_index("ix_realtime_events_user_id_id", "realtime_events", ["user_id", "id"])
    op.create_index("ix_realtime_events_course_id_id", "realtime_events", ["course_id", "id"])
    op.create_index("ix_realtime_events_created_at", "realtime_events", ["created_at"])
    op.execute("ALTER TABLE realtime_events ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE realtime_events FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY own_rows ON realtime_events USING ({OWN_ROWS}) WITH CHECK ({OWN_ROWS})"
    )


def downgrade() -> None:
    op.drop_table("realtime_events")
