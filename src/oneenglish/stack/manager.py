"""The local stack: the PostgreSQL and FerretDB servers a development machine or test run needs.

A server is skipped when its URL (DATABASE_URL, MONGODB_URL) points elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from oneenglish.settings import LOCAL_PG_PASSWORD, LOCAL_PG_USER, Settings
from oneenglish.stack.ferretdb import LocalFerretDB
from oneenglish.stack.ferretdb_indexes import backing_database_settings, mirror_indexes
from oneenglish.stack.postgres import LocalPostgres

FERRETDB_BACKING_DATABASE = "ferretdb"


@dataclass(frozen=True)
class ServiceLine:
    name: str
    state: str  # "running", "stopped", "external"
    address: str
    detail: str = ""


@dataclass
class Stack:
    settings: Settings
    durable: bool = True
    started: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        data_dir = self.settings.data_dir
        databases = [self.settings.local_postgres_database]
        if self.settings.ferretdb_backend == "postgresql":
            databases.append(FERRETDB_BACKING_DATABASE)
        uses_ferretdb_backend = "ferretdb" in databases
        self.postgres = LocalPostgres(
            data_dir / "postgres",
            self.settings.local_postgres_port,
            tuple(databases),
            durable=self.durable,
            database_settings=(
                (backing_database_settings(FERRETDB_BACKING_DATABASE),)
                if uses_ferretdb_backend
                else ()
            ),
        )
        self.ferretdb = LocalFerretDB(
            data_dir / "ferretdb",
            data_dir / "bin",
            self.settings.local_mongodb_port,
            backend=self.settings.ferretdb_backend,
            postgresql_url=(
                f"postgres://{LOCAL_PG_USER}:{LOCAL_PG_PASSWORD}@127.0.0.1:"
                f"{self.settings.local_postgres_port}/{FERRETDB_BACKING_DATABASE}"
            ),
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
        if self.settings.uses_local_mongodb and self.ferretdb.start():
            self.started.append("ferretdb")
        return self.status()

    def down(self, only_started: bool = False) -> list[str]:
        """Stop the servers (FerretDB first); with only_started, only those this object started."""
        stopped: list[str] = []
        if (not only_started or "ferretdb" in self.started) and self.ferretdb.stop():
            stopped.append("ferretdb")
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
        return lines
