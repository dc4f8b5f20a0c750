"""What each PostgreSQL role may do, table by table: the least privilege, declared in one place.

Three roles (SPEC §5): the *owner* owns every object and runs the migrations (DDL); the
*application* role, which the API and workers use, may only read and write rows, and only the
statements each table needs (no TRUNCATE, REFERENCES or TRIGGER anywhere, no DDL, no other
schema); the *reporting* role (analysts, pgAdmin) may only read, and never secrets: password
hashes, session and token hashes, replayable responses, saga payloads (which carry emails).

`oneenglish migrate` applies this (as the owner, idempotently: everything is revoked, then
granted as declared) after the migrations. `oneenglish db privileges` prints the same SQL for
a DBA who applies it by hand. A table that is not declared here fails a test, so a new table
cannot ship with no decision about who may touch it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from oneenglish.db.postgres import create_engine
from oneenglish.db.rls import PROTECTED_TABLES
from oneenglish.settings import Settings

ALL_DML = ("SELECT", "INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class TablePrivileges:
    app: tuple[str, ...]
    # None: the reporting role reads the whole table; a tuple: only these columns; () nothing.
    reporting_columns: tuple[str, ...] | None = None
    why: str = ""


TABLES: dict[str, TablePrivileges] = {
    "users": TablePrivileges(
        ALL_DML,
        reporting_columns=(
            "id",
            "email",
            "username",
            "first_name",
            "last_name",
            "display_name",
            "avatar_url",
            "is_active",
            "email_verified_at",
            "erased_at",
            "created_at",
            "updated_at",
        ),
        why="reporting never reads password hashes",
    ),
    "roles": TablePrivileges(ALL_DML),
    "permissions": TablePrivileges(ALL_DML),
    "role_permissions": TablePrivileges(ALL_DML),
    "user_roles": TablePrivileges(ALL_DML),
    "user_permissions": TablePrivileges(ALL_DML),
    "auth_sessions": TablePrivileges(ALL_DML, (), "session secrets"),
    "refresh_tokens": TablePrivileges(ALL_DML, (), "token hashes"),
    "account_tokens": TablePrivileges(ALL_DML, (), "hashes of mailed links' tokens"),
    "mail_digests": TablePrivileges(("SELECT", "INSERT", "UPDATE")),
    "realtime_events": TablePrivileges(("SELECT", "INSERT", "DELETE"), (), "chat messages"),
    "login_throttles": TablePrivileges(ALL_DML, (), "keyed by email and address"),
    "courses": TablePrivileges(ALL_DML),
    "lessons": TablePrivileges(ALL_DML),
    "enrollments": TablePrivileges(ALL_DML),
    # Totals are upserted; rows go only with their enrollment (ON DELETE CASCADE, which runs
    # with the owner's rights), so the application never deletes one.
    "lesson_activity": TablePrivileges(("SELECT", "INSERT", "UPDATE")),
    # Upserted on each credited update; goes with its user (ON DELETE CASCADE).
    "study_clocks": TablePrivileges(("SELECT", "INSERT", "UPDATE")),
    # History for the reports: inserted once (ON CONFLICT DO NOTHING), never changed; rows go
    # with their user or enrollment (ON DELETE CASCADE).
    "study_days": TablePrivileges(("SELECT", "INSERT")),
    "quiz_answers": TablePrivileges(("SELECT", "INSERT")),
    "user_blocks": TablePrivileges(ALL_DML),
    "rate_limits": TablePrivileges(ALL_DML, (), "operational counters"),
    "idempotency_keys": TablePrivileges(ALL_DML, (), "stored responses may hold personal data"),
    "sagas": TablePrivileges(ALL_DML, (), "payloads carry emails and names"),
    # Money (migration 0016): an order, a payment or a refund is never deleted (an erased
    # learner's orders stay, anonymous); coupons end by their window, not by deletion.
    "coupons": TablePrivileges(("SELECT", "INSERT", "UPDATE")),
    "orders": TablePrivileges(("SELECT", "INSERT", "UPDATE")),
    "coupon_redemptions": TablePrivileges(("SELECT", "INSERT", "DELETE")),
    "payments": TablePrivileges(("SELECT", "INSERT")),
    "refunds": TablePrivileges(("SELECT", "INSERT")),
    "payment_events": TablePrivileges(("SELECT", "INSERT", "UPDATE")),
    # The migration head: the owner's alone; the application never reads it.
    "alembic_version": TablePrivileges((), None),
}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def grant_statements(app_role: str | None, reporting_role: str | None) -> list[str]:
    """The SQL that makes the roles' privileges exactly TABLES (revoke all, then grant)."""
    roles = [r for r in (app_role, reporting_role) if r]
    if not roles:
        return []
    quoted = ", ".join(_quote(r) for r in roles)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
    ]
    for table, privileges in TABLES.items():
        name = f"public.{_quote(table)}"
        if app_role and privileges.app:
            statements.append(f"GRANT {', '.join(privileges.app)} ON {name} TO {_quote(app_role)}")
        if reporting_role and privileges.reporting_columns is None:
            statements.append(f"GRANT SELECT ON {name} TO {_quote(reporting_role)}")
        elif reporting_role and privileges.reporting_columns:
            columns = ", ".join(_quote(c) for c in privileges.reporting_columns)
            statements.append(f"GRANT SELECT ({columns}) ON {name} TO {_quote(reporting_role)}")
    if app_role:
        statements.append(
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_quote(app_role)}"
        )
    if reporting_role:
        # Row Level Security (db/rls.py) would show the reporting role nothing of the tables
        # it may read: it reads all their rows.
        for table in PROTECTED_TABLES:
            if TABLES[table].reporting_columns != ():
                statements += [
                    f"DROP POLICY IF EXISTS reporting_reads ON public.{_quote(table)}",
                    f"CREATE POLICY reporting_reads ON public.{_quote(table)} FOR SELECT "
                    f"TO {_quote(reporting_role)} USING (true)",
                ]
    return statements


async def apply(settings: Settings) -> int:
    """Make the roles' privileges exactly TABLES, as the owner; returns the statements run."""
    statements = grant_statements(settings.app_role, settings.reporting_role)
    if not statements:
        return 0
    engine = create_engine(settings, url=settings.migration_postgres_url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
    return len(statements)
