"""Sessions end with the access they were granted under: deactivating an account, or taking a
role or a direct grant away from it, revokes every live login session of that account in the
same transaction. Triggers, so that no code path (API, CLI, a future admin tool, SQL by hand)
can forget it; without them an old token came back to life when the account was reactivated.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION revoke_sessions_of_deactivated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'deactivated'
            WHERE user_id = NEW.id AND revoked_at IS NULL;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER sessions_end_on_deactivation
        AFTER UPDATE OF is_active ON users
        FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
        EXECUTE FUNCTION revoke_sessions_of_deactivated()
        """
    )
    op.execute(
        """
        CREATE FUNCTION revoke_sessions_of_lost_grants() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'access_reduced'
            WHERE user_id IN (SELECT DISTINCT user_id FROM removed) AND revoked_at IS NULL;
            RETURN NULL;
        END $$
        """
    )
    for table in ("user_roles", "user_permissions"):
        op.execute(
            f"""
            CREATE TRIGGER sessions_end_on_lost_grant
            AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS removed
            FOR EACH STATEMENT EXECUTE FUNCTION revoke_sessions_of_lost_grants()
            """
        )


def downgrade() -> None:
    for table in ("user_roles", "user_permissions"):
        op.execute(f"DROP TRIGGER IF EXISTS sessions_end_on_lost_grant ON {table}")
    op.execute("DROP TRIGGER IF EXISTS sessions_end_on_deactivation ON users")
    op.execute("DROP FUNCTION IF EXISTS revoke_sessions_of_lost_grants()")
    op.execute("DROP FUNCTION IF EXISTS revoke_sessions_of_deactivated()")
