"""Where the benchmark runs: its own stack, ports and settings, apart from development and tests.

Every `oneenglish` command the harness runs gets the same environment, built here, and runs
with the bench data directory as its working directory: a developer's `.env` (which could point
DATABASE_URL at their own server) and settings exported in their shell must not leak in.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oneenglish.db.rls import PROTECTED_TABLES
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack

ROOT = Path(__file__).resolve().parents[1]

# The one password of every account the benchmark creates or loads. The bench databases listen
# on loopback only and hold nothing but generated data.
BENCH_PASSWORD = "Oe-Load-Test-2026!"  # noqa: S105
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_USERNAME = "bench_admin"

POSTGRES_PORT = 25450  # below the ephemeral port range, like the test stacks
MONGODB_PORT = 27050
SMTP_PORT = 25455  # the bench stack's Mailpit
MAILPIT_UI_PORT = 25456
REDIS_PORT = 25457
REPLICA_PORT = 25458  # `--replicas`: the bench PostgreSQL's streaming standby (bench.scale)
PGBOUNCER_PORT = 25459  # `--pgbouncer`: PgBouncer in front of it (bench.scale)
MONGODB_DATABASE = "oneenglish_bench"
API_PORT = 8050
# Long enough that the administrator's one login outlives every scenario of a run.
ACCESS_TOKEN_TTL_SECONDS = 3600


class CommandFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class BenchEnv:
    data_dir: Path = ROOT / ".data" / "bench"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Fresh for every run: production settings refuse a weak or default key.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(36))
    # False only for `--db-security off|both`: the same stack and API without TLS and without
    # Row Level Security, to measure what the two cost (README "Security at the database level").
    db_security: bool = True
    # The real-time fan-out through the stack's Redis instead of LISTEN/NOTIFY (bench-ws).
    redis: bool = False
    # bench.scale: read replicas the stack starts (the API reads from them), and PgBouncer in
    # front of PostgreSQL for the API's connections (the floor always connects directly).
    replicas: int = 0
    pgbouncer: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{API_PORT}"

    @property
    def run_dir(self) -> Path:
        """Files handed to wrk (ids, emails) and the API's log."""
        return self.data_dir / "run"

    def variables(self) -> dict[str, str]:
        return {
            "DATA_DIR": str(self.data_dir),
            "LOCAL_POSTGRES_PORT": str(POSTGRES_PORT),
            "LOCAL_MONGODB_PORT": str(MONGODB_PORT),
            "LOCAL_SMTP_PORT": str(SMTP_PORT),
            "LOCAL_MAILPIT_UI_PORT": str(MAILPIT_UI_PORT),
            "MONGODB_DATABASE": MONGODB_DATABASE,
            "ENVIRONMENT": "production",
            "SECRET_KEY": self.secret_key,
            "HOST": "127.0.0.1",
            "PORT": str(API_PORT),
            "WORKERS": str(self.workers),
            "LOG_LEVEL": "WARNING",
            "ACCESS_TOKEN_TTL_SECONDS": str(ACCESS_TOKEN_TTL_SECONDS),
            # (i) asks for resets from one client address at thousands a minute.
            "ACCOUNT_MAILS_PER_ADDRESS_PER_HOUR": "10000",
            "ACCOUNT_MAILS_PER_IP_PER_HOUR": "100000",
            # Production requires one; the bench's is kept with its data (its key vault).
            "FIELD_ENCRYPTION_MASTER_KEY": self.field_master_key(),
            "LOCAL_REDIS": str(self.redis).lower(),
            "LOCAL_REDIS_PORT": str(REDIS_PORT),
            "LOCAL_POSTGRES_REPLICAS": str(self.replicas),
            "LOCAL_POSTGRES_REPLICA_PORT": str(REPLICA_PORT),
            "LOCAL_PGBOUNCER": str(self.pgbouncer).lower(),
            "LOCAL_PGBOUNCER_PORT": str(PGBOUNCER_PORT),
            **(
                {}
                if self.db_security
                else {
                    "LOCAL_DATABASE_TLS": "false",
                    "DATABASE_SSLMODE": "disable",
                    "DATABASE_ROW_SECURITY": "false",
                }
            ),
        }

    def set_row_security(self, enabled: bool) -> None:
        """Enable or disable the RLS policies (db/rls.py) of the bench database, as superuser."""
        stack = Stack(self.settings())
        action = "ENABLE" if enabled else "DISABLE"
        statements = "; ".join(
            f"ALTER TABLE {table} {action} ROW LEVEL SECURITY" for table in PROTECTED_TABLES
        )
        stack.postgres.psql(statements, database=self.settings().local_postgres_database)

    def field_master_key(self) -> str:
        path = self.data_dir / "field-encryption-master-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.b64encode(secrets.token_bytes(96)).decode())
            path.chmod(0o600)
        return path.read_text().strip()

    def process_env(self) -> dict[str, str]:
        setting_names = {name.upper() for name in Settings.model_fields}
        inherited = {k: v for k, v in os.environ.items() if k.upper() not in setting_names}
        return {**inherited, **self.variables()}

    def settings(self) -> Settings:
        """The same settings in this process (for the loader and the floor)."""
        values: dict[str, Any] = {k.lower(): v for k, v in self.variables().items()}
        return Settings(_env_file=None, database_url=None, mongodb_url=None, **values)

    def prepare(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)

    def oneenglish(self, *args: str) -> str:
        """Run an `oneenglish` command against the bench stack; its output, or CommandFailed."""
        result = subprocess.run(
            [str(cli_path()), *args],
            cwd=self.data_dir,
            env=self.process_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandFailed(
                f"oneenglish {' '.join(args[:2])} failed ({result.returncode}):\n"
                f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )
        return result.stdout

    def provision(self) -> None:
        """Start the bench stack, migrate it and make sure the bench administrator exists."""
        self.prepare()
        print(self.oneenglish("stack", "up").rstrip())
        self.oneenglish("migrate")
        self.oneenglish(
            "create-admin",
            "--email",
            ADMIN_EMAIL,
            "--username",
            ADMIN_USERNAME,
            "--password",
            BENCH_PASSWORD,
        )

    def servers(self) -> dict[str, int]:
        """The running database servers by name: PostgreSQL, its replicas, PgBouncer, FerretDB."""
        stack = Stack(self.settings())
        named = {"postgresql": stack.postgres.pid()}
        named |= {f"replica {i + 1}": r.pid() for i, r in enumerate(stack.replicas)}
        named |= {"pgbouncer": stack.pgbouncer.pid(), "ferretdb": stack.ferretdb.pid()}
        return {name: pid for name, pid in named.items() if pid is not None}

    def database_pids(self) -> list[int]:
        """The bench's database servers' pids (their trees hold the backends), while they run."""
        return list(self.servers().values())

    def stack_down(self) -> None:
        print(self.oneenglish("stack", "down").rstrip())


def cli_path() -> Path:
    return Path(sys.executable).parent / "oneenglish"
