"""The local stack: the PostgreSQL, FerretDB, Mailpit and stripe-mock servers a development
machine or test run needs, and when asked Redis (LOCAL_REDIS), PgBouncer (LOCAL_PGBOUNCER) and
streaming replicas (LOCAL_POSTGRES_REPLICAS).

A server is skipped when its setting (DATABASE_URL, MONGODB_URL, SMTP_URL, REDIS_URL,
STRIPE_API_KEY) points elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from oneenglish.settings import (
    LOCAL_APP_ROLE,
    LOCAL_MONGO_USER,
    LOCAL_PG_USER,
    LOCAL_REDIS_USER,
    LOCAL_REPORTING_ROLE,
    LOCAL_ROLES,
    Settings,
)
from oneenglish.stack.ferretdb import LocalFerretDB
from oneenglish.stack.ferretdb_indexes import backing_database_settings, mirror_indexes
from oneenglish.stack.mailpit import LocalMailpit
from oneenglish.stack.pgbouncer import LocalPgBouncer
from oneenglish.stack.postgres import DatabaseAccess, LocalPostgres, LocalPostgresReplica
from oneenglish.stack.redis import LocalRedis
from oneenglish.stack.stripe_mock import LocalStripeMock
from oneenglish.stack.tls import LocalTLS

FERRETDB_BACKING_DATABASE = "ferretdb"


@dataclass(frozen=True)
class ServiceLine:
    name: str
    state: str  # "running", "stopped", "external", "off"
    address: str
    detail: str = ""


@dataclass
class Stack:
    settings: Settings
    durable: bool = True
    started: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        data_dir = self.settings.data_dir
        self.tls = LocalTLS(self.settings.local_tls_dir)
        databases = [
            DatabaseAccess(
                self.settings.local_postgres_database,
                LOCAL_PG_USER,
                (LOCAL_PG_USER, LOCAL_APP_ROLE, LOCAL_REPORTING_ROLE),
            )
        ]
        uses_ferretdb_backend = self.settings.ferretdb_backend == "postgresql"
        if uses_ferretdb_backend:
            databases.append(
                DatabaseAccess(FERRETDB_BACKING_DATABASE, LOCAL_MONGO_USER, (LOCAL_MONGO_USER,))
            )
        self.postgres = LocalPostgres(
            data_dir / "postgres",
            self.settings.local_postgres_port,
            tuple(databases),
            tls=self.tls,
            passwords={role: self.settings.local_password(role) for role in LOCAL_ROLES},
            durable=self.durable,
            tls_only=self.settings.local_database_tls,
            database_settings=(
                # Writes (which it has no right to make: an attempt shows) and DDL by the
                # reporting role are audited on top of everyone's DDL and role changes.
                f"ALTER ROLE {LOCAL_REPORTING_ROLE} SET pgaudit.log = 'write, ddl, role'",
                *(
                    (backing_database_settings(FERRETDB_BACKING_DATABASE),)
                    if uses_ferretdb_backend
                    else ()
                ),
            ),
        )
        self.replicas = [
            LocalPostgresReplica(
                data_dir / f"postgres-replica-{i + 1}",
                self.settings.local_postgres_replica_port + i,
                self.postgres,
            )
            for i in range(self.settings.local_postgres_replicas)
            if self.settings.uses_local_postgres
        ]
        self.pgbouncer = LocalPgBouncer(
            data_dir / "pgbouncer",
            self.settings.local_pgbouncer_port,
            self.postgres,
            users={LOCAL_APP_ROLE: self.settings.local_password(LOCAL_APP_ROLE)},
        )
        self.ferretdb = LocalFerretDB(
            data_dir / "ferretdb",
            data_dir / "bin",
            self.settings.local_mongodb_port,
            backend=self.settings.ferretdb_backend,
            tls=self.tls,
            # No credentials: FerretDB passes each client's own (SASL PLAIN) to PostgreSQL, so
            # a client without a valid role and password reaches no data. Over verified TLS.
            postgresql_url=(
                f"postgres://127.0.0.1:{self.settings.local_postgres_port}/"
                f"{FERRETDB_BACKING_DATABASE}?sslmode=verify-full&sslrootcert={self.tls.ca_file}"
            ),
            credentials=(
                (LOCAL_MONGO_USER, self.settings.local_password(LOCAL_MONGO_USER))
                if uses_ferretdb_backend
                else None
            ),
            tls_only=self.settings.local_database_tls,
        )
        self.mailpit = LocalMailpit(
            data_dir / "mailpit",
            self.settings.local_smtp_port,
            self.settings.local_mailpit_ui_port,
            tls=self.tls,
        )
        self.redis = LocalRedis(
            data_dir / "redis",
            self.settings.local_redis_port,
            tls=self.tls,
            password=self.settings.local_password(LOCAL_REDIS_USER),
        )
        self.stripe_mock = LocalStripeMock(
            data_dir / "stripe-mock", self.settings.local_stripe_mock_port
        )

    @property
    def manages_postgres(self) -> bool:
        # FerretDB's postgresql backend needs the local PostgreSQL even when the app's is remote.
        return self.settings.uses_local_postgres or (
            self.settings.uses_local_mongodb and self.settings.ferretdb_backend == "postgresql"
        )

    def up(self) -> list[ServiceLine]:
        if self.manages_postgres and self.postgres.start():
            self.started.append("postgres")
        for i, replica in enumerate(self.replicas):
            if replica.start():
                self.started.append(f"postgres-replica-{i + 1}")
        if self.settings.uses_local_pgbouncer and self.pgbouncer.start():
            self.started.append("pgbouncer")
        if self.settings.uses_local_mongodb and self.ferretdb.start():
            self.started.append("ferretdb")
        if self.settings.uses_local_smtp and self.mailpit.start():
            self.started.append("mailpit")
        if self.settings.uses_local_redis and self.redis.start():
            self.started.append("redis")
        if self.settings.uses_local_stripe and self.stripe_mock.start():
            self.started.append("stripe-mock")
        return self.status()

    def down(self, only_started: bool = False) -> list[str]:
        """Stop the servers (FerretDB first); with only_started, only those this object started."""
        stopped: list[str] = []
        if (not only_started or "stripe-mock" in self.started) and self.stripe_mock.stop():
            stopped.append("stripe-mock")
        if (not only_started or "redis" in self.started) and self.redis.stop():
            stopped.append("redis")
        if (not only_started or "mailpit" in self.started) and self.mailpit.stop():
            stopped.append("mailpit")
        if (not only_started or "ferretdb" in self.started) and self.ferretdb.stop():
            stopped.append("ferretdb")
        if (not only_started or "pgbouncer" in self.started) and self.pgbouncer.stop():
            stopped.append("pgbouncer")
        for i, replica in enumerate(self.replicas):
            name = f"postgres-replica-{i + 1}"
            if (not only_started or name in self.started) and replica.stop():
                stopped.append(name)
        if (not only_started or "postgres" in self.started) and self.postgres.stop():
            stopped.append("postgres")
        self.started.clear()
        return stopped

    def index_ferretdb(self, fields_by_collection: Mapping[str, Iterable[str]]) -> int:
        """Let the local FerretDB's backing PostgreSQL serve the declared indexes (see
        stack/ferretdb_indexes.py); nothing to do for a real MongoDB or the SQLite backend."""
        if not (
            self.settings.uses_local_mongodb and self.settings.ferretdb_backend == "postgresql"
        ):
            return 0
        return mirror_indexes(
            self.postgres,
            FERRETDB_BACKING_DATABASE,
            self.settings.mongodb_database,
            fields_by_collection,
        )

    def status(self) -> list[ServiceLine]:
        lines: list[ServiceLine] = []
        if self.manages_postgres:
            pg = self.postgres.status()
            lines.append(
                ServiceLine(
                    "postgresql",
                    "running" if pg.running else "stopped",
                    f"127.0.0.1:{pg.port}",
                    f"pid {pg.pid}, data {pg.data_dir}" if pg.running else f"data {pg.data_dir}",
                )
            )
        else:
            lines.append(ServiceLine("postgresql", "external", "DATABASE_URL"))
        for i, replica in enumerate(self.replicas):
            rs = replica.status()
            lines.append(
                ServiceLine(
                    f"pg replica {i + 1}",
                    "running" if rs.running else "stopped",
                    f"127.0.0.1:{rs.port}",
                    f"pid {rs.pid}, streaming from :{self.postgres.port}" if rs.running else "",
                )
            )
        if self.settings.uses_local_pgbouncer:
            pb = self.pgbouncer.status()
            lines.append(
                ServiceLine(
                    "pgbouncer",
                    "running" if pb.running else "stopped",
                    f"127.0.0.1:{pb.port}",
                    f"pid {pb.pid}, transaction pooling" if pb.running else "",
                )
            )
        if self.settings.uses_local_mongodb:
            fd = self.ferretdb.status()
            lines.append(
                ServiceLine(
                    "ferretdb",
                    "running" if fd.running else "stopped",
                    f"127.0.0.1:{fd.port}",
                    f"pid {fd.pid}, {fd.backend} backend" if fd.running else f"{fd.backend}",
                )
            )
        else:
            lines.append(ServiceLine("mongodb", "external", "MONGODB_URL"))
        if self.settings.uses_local_smtp:
            mp = self.mailpit.status()
            lines.append(
                ServiceLine(
                    "mailpit",
                    "running" if mp.running else "stopped",
                    f"127.0.0.1:{mp.smtp_port}",
                    f"pid {mp.pid}, web UI {self.mailpit.url}" if mp.running else "",
                )
            )
        else:
            lines.append(ServiceLine("smtp", "external", "SMTP_URL"))
        if self.settings.uses_local_redis:
            rd = self.redis.status()
            lines.append(
                ServiceLine(
                    "redis",
                    "running" if rd.running else "stopped",
                    f"127.0.0.1:{rd.port}",
                    f"pid {rd.pid}, TLS only" if rd.running else "",
                )
            )
        elif self.settings.redis_url is not None:
            lines.append(ServiceLine("redis", "external", "REDIS_URL"))
        if self.settings.uses_local_stripe:
            sm = self.stripe_mock.status()
            lines.append(
                ServiceLine(
                    "stripe-mock",
                    "running" if sm.running else "stopped",
                    f"127.0.0.1:{sm.port}",
                    f"pid {sm.pid}, Stripe's API mock" if sm.running else "",
                )
            )
        elif self.settings.stripe_api_key is not None:
            lines.append(ServiceLine("stripe", "external", "STRIPE_API_KEY"))
        else:
            lines.append(ServiceLine("stripe", "off", "no STRIPE_API_KEY: paid checkouts get 503"))
        return lines
