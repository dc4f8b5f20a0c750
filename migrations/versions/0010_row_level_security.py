"""Row Level Security on the tables that hold one learner's own rows (db/rls.py).

Each table's policy admits a row when the connection's `app.user_id` owns it (for enrollments
and their lesson activity, also when it is the teacher of the course) or when `app.scope` is
`system`. ENABLE and FORCE: the owner's own statements obey the policies too (referential
actions, such as the cascades of an erasure, are not subject to RLS). Two SQL functions read
the settings; they are inlined by the planner, and an empty or missing setting admits nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = (
    """CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
       $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$""",
    """CREATE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
       $$ SELECT coalesce(current_setting('app.scope', true), '') = 'system' $$""",
)

# table -> the condition that makes a row the caller's (besides the system scope)
OWN_ROWS = {
    "enrollments": "user_id = app_user_id()",
    # Through enrollments, whose own policy applies inside the subquery.
    "lesson_activity": "enrollment_id IN (SELECT e.id FROM enrollments e)",
    "auth_sessions": "user_id = app_user_id()",
    "refresh_tokens": "session_id IN (SELECT s.id FROM auth_sessions s)",
    "user_permissions": "user_id = app_user_id()",
}


# A teacher reads, updates (progress totals) and removes the enrollments of the courses they
# teach; only the learner (or the system) creates one.
TAUGHT = "course_id IN (SELECT c.id FROM courses c WHERE c.created_by = app_user_id())"
TAUGHT_POLICIES = {
    "taught_rows_read": "FOR SELECT USING ({t})",
    "taught_rows_update": "FOR UPDATE USING ({t}) WITH CHECK ({t})",
    "taught_rows_delete": "FOR DELETE USING ({t})",
}


# The triggers that end a user's sessions when their access shrinks (0005) act on that user's
# rows whoever made the change: they switch to the system scope for their one UPDATE and back.
# (A function-level `SET app.scope` would need a superuser's GRANT SET ON PARAMETER.)
SYSTEM_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.scope', true), '');
BEGIN
    PERFORM set_config('app.scope', 'system', true);
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = '{reason}'
    WHERE {which} AND revoked_at IS NULL;
    PERFORM set_config('app.scope', previous, true);
    RETURN NULL;
END $$
"""
SESSION_ENDERS = {
    "revoke_sessions_of_deactivated": ("deactivated", "user_id = NEW.id"),
    "revoke_sessions_of_lost_grants": (
        "access_reduced",
        "user_id IN (SELECT DISTINCT user_id FROM removed)",
    ),
}
OLD_SESSION_ENDERS = {  # 0005's bodies, for the downgrade
    name: SYSTEM_FUNCTION.replace(
        "    PERFORM set_config('app.scope', 'system', true);\n", ""
    ).replace("    PERFORM set_config('app.scope', previous, true);\n", "")
    for name in SESSION_ENDERS
}


def upgrade() -> None:
    for function in FUNCTIONS:
        op.execute(function)
    for name, (reason, which) in SESSION_ENDERS.items():
        op.execute(SYSTEM_FUNCTION.format(name=name, reason=reason, which=which))
    for table, condition in OWN_ROWS.items():
        rule = f"app_is_system() OR {condition}"
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY own_rows ON {table} USING ({rule}) WITH CHECK ({rule})")
    for name, policy in TAUGHT_POLICIES.items():
        op.execute(f"CREATE POLICY {name} ON enrollments {policy.format(t=TAUGHT)}")


def downgrade() -> None:
    for name, (reason, which) in SESSION_ENDERS.items():
        op.execute(OLD_SESSION_ENDERS[name].format(name=name, reason=reason, which=which))
    for name in TAUGHT_POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON enrollments")
    for table in OWN_ROWS:
        op.execute(f"DROP POLICY IF EXISTS own_rows ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS app_is_system()")
    op.execute("DROP FUNCTION IF EXISTS app_user_id()")
