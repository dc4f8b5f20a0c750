"""The admin UIs of the design document's diagram, for the local stack: pgAdmin 4 beside
PostgreSQL and Mongo Express beside MongoDB, on loopback, each behind a login generated once
into DATA_DIR/credentials. They need the local databases (started first) and stop with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from oneenglish.settings import LOCAL_MONGO_USER, LOCAL_REPORTING_ROLE, Settings
from oneenglish.stack.errors import StackError
from oneenglish.stack.manager import ServiceLine
from oneenglish.stack.mongo_express import LOGIN_USER as MONGO_EXPRESS_USER
from oneenglish.stack.mongo_express import LocalMongoExpress, MongoTarget
from oneenglish.stack.pgadmin import LOGIN_EMAIL as PGADMIN_EMAIL
from oneenglish.stack.pgadmin import LocalPgAdmin, PgAdminTarget

# The files under DATA_DIR/credentials that hold the generated logins.
PGADMIN_SECRET = "pgadmin-login"  # noqa: S105
MONGO_EXPRESS_SECRET = "mongo-express-login"  # noqa: S105


@dataclass(frozen=True)
class Login:
    tool: str
    url: str
    user: str
    password: str
    secret_file: str


@dataclass
class AdminTools:
    """`state_dir`: where their data and logs go (DATA_DIR); `tools_dir`: where they are
    installed (DATA_DIR/tools), shared by every stack of the machine (the tests' too)."""

    settings: Settings
    state_dir: Path | None = None
    tools_dir: Path | None = None
    started: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        settings = self.settings
        state_dir = self.state_dir or settings.data_dir
        tools_dir = self.tools_dir or settings.data_dir / "tools"
        ca_file = settings.local_tls_dir / "ca.pem"
        self.pgadmin = LocalPgAdmin(
            state_dir / "pgadmin",
            tools_dir,
            settings.local_pgadmin_port,
            settings.local_password(PGADMIN_SECRET),
            PgAdminTarget(
                settings.local_postgres_port,
                settings.local_postgres_database,
                LOCAL_REPORTING_ROLE,
                settings.local_password(LOCAL_REPORTING_ROLE),
                ca_file,
            ),
        )
        authenticated = settings.ferretdb_backend == "postgresql"
        self.mongo_express = LocalMongoExpress(
            state_dir / "mongo-express",
            tools_dir,
            settings.local_mongo_express_port,
            settings.local_password(MONGO_EXPRESS_SECRET),
            (
                settings.local_password("mongo-express-cookie"),
                settings.local_password("mongo-express-session"),
            ),
            MongoTarget(
                settings.local_mongodb_port,
                settings.mongodb_database,
                LOCAL_MONGO_USER if authenticated else None,
                settings.local_password(LOCAL_MONGO_USER) if authenticated else None,
                ca_file if settings.local_database_tls else None,
            ),
        )

    def up(self) -> list[ServiceLine]:
        """Start both (the databases must be up: `oneenglish admin up` starts them first)."""
        if not (self.settings.uses_local_postgres and self.settings.uses_local_mongodb):
            raise StackError(
                "admin tools: they open the local stack's databases; DATABASE_URL or "
                "MONGODB_URL points elsewhere (use your own admin tools for those servers)"
            )
        if self.pgadmin.start():
            self.started.append("pgadmin")
        if self.mongo_express.start():
            self.started.append("mongo-express")
        return self.status()

    def down(self) -> list[str]:
        stopped = []
        if self.mongo_express.stop():
            stopped.append("mongo-express")
        if self.pgadmin.stop():
            stopped.append("pgadmin")
        return stopped

    def status(self) -> list[ServiceLine]:
        lines = []
        for name, tool in (("pgadmin", self.pgadmin), ("mongo-express", self.mongo_express)):
            pid = tool.pid()
            lines.append(
                ServiceLine(
                    name,
                    "running" if pid else "stopped",
                    tool.url.removeprefix("http://"),
                    f"pid {pid}" if pid else "",
                )
            )
        return lines

    def logins_shown(self) -> bool:
        """Whether the logins were shown before; the first call (after a start) says no."""
        marker = self.settings.data_dir / "credentials" / ".admin-logins-shown"
        if marker.exists():
            return True
        marker.touch()
        return False

    def logins(self) -> list[Login]:
        credentials = self.settings.data_dir / "credentials"
        return [
            Login(
                "pgAdmin",
                self.pgadmin.url,
                PGADMIN_EMAIL,
                self.pgadmin.login_password,
                str(credentials / PGADMIN_SECRET),
            ),
            Login(
                "Mongo Express",
                self.mongo_express.url,
                MONGO_EXPRESS_USER,
                self.mongo_express.login_password,
                str(credentials / MONGO_EXPRESS_SECRET),
            ),
        ]
