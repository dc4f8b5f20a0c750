"""The saga log: the durable intent of every operation that writes both databases, and the
outbox of events (audit entries) that must reach MongoDB.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:57:15.048226+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sagas",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "steps",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'compensating', 'completed', 'compensated', 'failed')",
            name=op.f("ck_sagas_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagas")),
    )
    op.create_index(
        "ix_sagas_due",
        "sagas",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'compensating')"),
    )
    op.create_index(
        "ix_sagas_finished_at",
        "sagas",
        ["finished_at"],
        unique=False,
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    )
    op.create_index(
        "ix_sagas_subject_unfinished",
        "sagas",
        ["subject_id"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'compensating')"),
    )

    op.execute(
        "CREATE TRIGGER sagas_set_updated_at BEFORE UPDATE ON sagas "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def downgrade() -> None:
    op.drop_index(
        "ix_sagas_subject_unfinished",
        table_name="sagas",
        postgresql_where=sa.text("status IN ('pending', 'compensating')"),
    )
    op.drop_index(
        "ix_sagas_finished_at",
        table_name="sagas",
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_sagas_due",
        table_name="sagas",
        postgresql_where=sa.text("status IN ('pending', 'compensating')"),
    )
    op.drop_table("sagas")
