"""Learning that means something: each lesson's completion rule and quiz-answer policy, a
course's sequential flag, the facts a completion rule is checked against (the steps done and
the best quiz score, kept with the lesson's totals so the check is exact under the enrollment
lock), each learner's study clock (the wall-clock bound on the time they can be credited), and
the name and avatar a user shows others.

Existing progress keeps its state: lessons completed before this migration stay completed
(their completion is not re-checked); their steps done so far are in MongoDB's lesson_progress
and are not copied here, so a lesson in progress under the new rule counts the steps marked
from now on (a learner re-marks them, or the teacher sets the lesson to `manual`). Existing
lessons get the defaults: `requirements`, pass mark 70, answers shown after each attempt.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN_CLOCK = "app_is_system() OR user_id = app_user_id()"


def upgrade() -> None:
    # The name and picture other people see (a user's public card); null: the default name.
    op.add_column("users", sa.Column("display_name", sa.String(length=60), nullable=True))
    op.add_column("users", sa.Column("avatar_url", sa.String(length=500), nullable=True))
    op.add_column(
        "lessons",
        sa.Column(
            "completion", sa.String(length=20), server_default="requirements", nullable=False
        ),
    )
    op.add_column(
        "lessons", sa.Column("pass_mark", sa.SmallInteger(), server_default="70", nullable=False)
    )
    op.add_column(
        "lessons",
        sa.Column(
            "show_answers",
            sa.String(length=20),
            server_default="after_each_attempt",
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_lessons_completion_policy"), "lessons", "completion IN ('requirements', 'manual')"
    )
    op.create_check_constraint(
        op.f("ck_lessons_pass_mark_range"), "lessons", "pass_mark BETWEEN 0 AND 100"
    )
    op.create_check_constraint(
        op.f("ck_lessons_show_answers_policy"),
        "lessons",
        "show_answers IN ('after_each_attempt', 'after_passing', 'never')",
    )
    op.add_column(
        "courses",
        sa.Column("sequential", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "lesson_activity",
        sa.Column(
            "completed_steps",
            postgresql.ARRAY(sa.String(length=64)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "lesson_activity", sa.Column("best_quiz_percent", sa.Numeric(5, 2), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_lesson_activity_best_quiz_percent_range"),
        "lesson_activity",
        "best_quiz_percent IS NULL OR best_quiz_percent BETWEEN 0 AND 100",
    )
    op.create_table(
        "study_clocks",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("credited_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_credit_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_study_clocks_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_study_clocks")),
        sa.CheckConstraint("last_credit_seconds >= 0", name=op.f("ck_study_clocks_credit")),
    )
    op.execute("ALTER TABLE study_clocks ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE study_clocks FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY own_rows ON study_clocks USING ({OWN_CLOCK}) WITH CHECK ({OWN_CLOCK})"
    )


def downgrade() -> None:
    op.drop_column("users", "avatar_url")
    op.drop_column("users", "display_name")
    op.drop_table("study_clocks")
    op.drop_constraint("ck_lesson_activity_best_quiz_percent_range", "lesson_activity")
    op.drop_column("lesson_activity", "best_quiz_percent")
    op.drop_column("lesson_activity", "completed_steps")
    op.drop_column("courses", "sequential")
    for name in ("completion_policy", "pass_mark_range", "show_answers_policy"):
        op.drop_constraint(f"ck_lessons_{name}", "lessons")
    for column in ("completion", "pass_mark", "show_answers"):
        op.drop_column("lessons", column)
