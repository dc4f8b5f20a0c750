"""Activity history for the reports: the days each learner studied in each course (active
learners per week, daily and weekly active users) and each exercise of each graded quiz
attempt (the average score per exercise). Both are a learner's own rows under Row Level
Security, and go with the learner (ON DELETE CASCADE).

Existing data: each lesson's last activity becomes a study day (the days before it were never
recorded, so earlier weeks count fewer active learners than they had); quiz attempts made
before this migration are in MongoDB's lesson_progress only and are not in the per-exercise
report.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN_ROWS = "app_is_system() OR user_id = app_user_id()"
TABLES = ("study_days", "quiz_answers")


def upgrade() -> None:
    op.create_table(
        "study_days",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_study_days_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_study_days_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "day", "user_id", name=op.f("pk_study_days")),
    )
    op.create_index("ix_study_days_day_user", "study_days", ["day", "user_id"], unique=False)
    op.create_table(
        "quiz_answers",
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("exercise_id", sa.String(length=64), nullable=False),
        sa.Column("enrollment_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Numeric(8, 2), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("first_attempt", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "points >= 0 AND points <= max_points", name=op.f("ck_quiz_answers_points")
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_quiz_answers_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_quiz_answers_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_quiz_answers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attempt_id", "exercise_id", name=op.f("pk_quiz_answers")),
    )
    op.create_index(
        "ix_quiz_answers_course_submitted", "quiz_answers", ["course_id", "submitted_at"]
    )
    op.create_index("ix_quiz_answers_enrollment_id", "quiz_answers", ["enrollment_id"])
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY own_rows ON {table} USING ({OWN_ROWS}) WITH CHECK ({OWN_ROWS})")
    # The migration runs as the owner, which RLS does not bind unless forced: it is forced on
    # both tables, so the system scope is set for the backfill.
    op.execute("SELECT set_config('app.scope', 'system', true)")
    op.execute(
        """
        INSERT INTO study_days (course_id, day, user_id)
        SELECT DISTINCT e.course_id, (a.last_activity_at AT TIME ZONE 'UTC')::date, e.user_id
        FROM lesson_activity AS a JOIN enrollments AS e ON e.id = a.enrollment_id
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_table("quiz_answers")
    op.drop_table("study_days")
