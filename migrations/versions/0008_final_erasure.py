"""Erasure that is final: `users.erased_at` marks an account whose erasure has begun (every write
of its data checks it under a share lock on the row), and `sagas.user_ids` names the users whose
data a saga writes (its steps run only for users not being erased; an erasure deletes the
finished ones that name the user).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "sagas",
        sa.Column(
            "user_ids",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.create_index("ix_sagas_user_ids", "sagas", ["user_ids"], postgresql_using="gin")
    # An account deactivated by an erasure that has not finished: mark it, so the erasure that
    # recovery completes finds it marked like new ones.
    op.execute(
        """
        UPDATE users SET erased_at = now()
        WHERE id IN (SELECT subject_id FROM sagas
                     WHERE kind = 'erase_user' AND status IN ('pending', 'compensating'))
        """
    )


def downgrade() -> None:
    op.drop_index("ix_sagas_user_ids", table_name="sagas")
    op.drop_column("sagas", "user_ids")
    op.drop_column("users", "erased_at")
