"""Learning: courses, lessons (ordered, unique slug and position per course), enrollments and
the exact per-lesson activity that progress is computed from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 03:21:46.566275+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=220), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False),
        sa.Column("is_published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
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
        sa.CheckConstraint(
            "level IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2')", name=op.f("ck_courses_level_cefr")
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_courses_slug_format")
        ),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_courses_title_not_empty")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_courses_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_courses_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("slug", name=op.f("uq_courses_slug")),
    )
    op.create_index("ix_courses_created_at_id", "courses", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_courses_created_by"), "courses", ["created_by"], unique=False)
    op.create_index("ix_courses_price", "courses", ["price"], unique=False)
    op.create_index(
        "ix_courses_published_level_created",
        "courses",
        ["is_published", "level", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_courses_search_trgm",
        "courses",
        [sa.literal_column("(lower(title || ' ' || description)) gin_trgm_ops")],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("progress", sa.Numeric(precision=5, scale=2), server_default="0", nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_enrollments_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_enrollments_course_id_courses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enrollments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("user_id", "course_id", name=op.f("uq_enrollments_user_id_course_id")),
    )
    op.create_index(
        "ix_enrollments_course_created",
        "enrollments",
        ["course_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_enrollments_user_created", "enrollments", ["user_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "lessons",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=220), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("is_published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_lessons_slug_format")
        ),
        sa.CheckConstraint('"order" > 0', name=op.f("ck_lessons_order_positive")),
        sa.CheckConstraint(
            "duration_minutes > 0 AND duration_minutes <= 1440",
            name=op.f("ck_lessons_duration_range"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_lessons_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint(
            "course_id",
            "order",
            deferrable=True,
            initially="IMMEDIATE",
            name="uq_lessons_course_id_order",
        ),
        sa.UniqueConstraint("course_id", "slug", name=op.f("uq_lessons_course_id_slug")),
    )
    op.create_index(
        "ix_lessons_course_published", "lessons", ["course_id", "is_published"], unique=False
    )
    op.create_table(
        "lesson_activity",
        sa.Column("enrollment_id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("time_spent_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "time_spent_seconds >= 0", name=op.f("ck_lesson_activity_time_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_lesson_activity_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_lesson_activity_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("enrollment_id", "lesson_id", name=op.f("pk_lesson_activity")),
    )
    op.create_index(
        op.f("ix_lesson_activity_lesson_id"), "lesson_activity", ["lesson_id"], unique=False
    )

    for table in ("courses", "lessons", "enrollments"):
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_lesson_activity_lesson_id"), table_name="lesson_activity")
    op.drop_table("lesson_activity")
    op.drop_index("ix_lessons_course_published", table_name="lessons")
    op.drop_table("lessons")
    op.drop_index("ix_enrollments_user_created", table_name="enrollments")
    op.drop_index("ix_enrollments_course_created", table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_index("ix_courses_search_trgm", table_name="courses", postgresql_using="gin")
    op.drop_index("ix_courses_published_level_created", table_name="courses")
    op.drop_index("ix_courses_price", table_name="courses")
    op.drop_index(op.f("ix_courses_created_by"), table_name="courses")
    op.drop_index("ix_courses_created_at_id", table_name="courses")
    op.drop_table("courses")
