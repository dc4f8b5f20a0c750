"""PgBouncer in front of the local PostgreSQL (LOCAL_PGBOUNCER=true): Debian's `pgbouncer`,
installed by apt if missing, in transaction pooling mode, on loopback.

TLS on both sides: clients must use it (the local stack's certificate, as PostgreSQL's), and
PgBouncer verifies PostgreSQL's certificate and host name against the stack's CA. Clients log
in with SCRAM; only the application's role is in its auth file (a file its owner alone reads),
so the owner and the reporting role reach PostgreSQL only directly. PgBouncer refuses to run
as root: as root it runs as the `postgres` system user, as the server does.

Timeouts are short on purpose: with PostgreSQL down, a client waiting for a server connection
must fail within seconds (the API's 503), not after PgBouncer's default two minutes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from oneenglish.stack.errors import StackError
from oneenglish.stack.packages import apt_install
from oneenglish.stack.postgres import LocalPostgres, as_server_user, give_to_server_user
from oneenglish.stack.process import (
    PidFileServer,
    ensure_port_free,
    spawn,
    wait_listening,
)

START_TIMEOUT_SECONDS = 20.0
BINARY_PATHS = ("/usr/sbin/pgbouncer",)


@dataclass(frozen=True)
class PgBouncerStatus:
    running: bool
    pid: int | None
    port: int


class LocalPgBouncer(PidFileServer):
    def __init__(
        self,
        root: Path,
        port: int,
        server: LocalPostgres,
        *,
        users: dict[str, str],
        pool_size: int = 40,
    ) -> None:
        self.root = root.resolve()
        self.port = port
        self.server = server
        self.users = users
        self.pool_size = pool_size
        self.pid_file = self.root / "pgbouncer.pid"
        self.log_file = self.root / "pgbouncer.log"
        self.config_file = self.root / "pgbouncer.ini"
        self.auth_file = self.root / "userlist.txt"

    def status(self) -> PgBouncerStatus:
        pid = self.pid()
        return PgBouncerStatus(pid is not None, pid, self.port)

    def start(self) -> bool:
        """Start PgBouncer if needed; returns True when this call started it."""
        if self.pid() is not None:
            return False
        ensure_port_free("PgBouncer", self.port, "LOCAL_PGBOUNCER_PORT")
        binary = server_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        self.server.tls.ensure()
        self._write_config()
        give_to_server_user(self.root)
        pid = spawn(
            as_server_user([str(binary), str(self.config_file)]),
            log_file=self.log_file,
            pid_file=self.pid_file,
        )
        wait_listening(
            "PgBouncer", self.port, pid=pid, log_file=self.log_file, timeout=START_TIMEOUT_SECONDS
        )
        return True

    def _write_config(self) -> None:
        tls = self.server.tls
        # Its own copies, readable by the user it runs as (the stack's TLS folder is root's).
        cert, key, ca = self.root / "server.pem", self.root / "server-key.pem", self.root / "ca.pem"
        shutil.copyfile(tls.cert_file, cert)
        shutil.copyfile(tls.key_file, key)
        shutil.copyfile(tls.ca_file, ca)
        for private in (key, self.auth_file):
            private.touch(mode=0o600)
            private.chmod(0o600)
        # Plain passwords (generated per DATA_DIR): PgBouncer runs SCRAM with the client and
        # logs in to PostgreSQL with them. Quotes are doubled, as its file format wants.
        self.auth_file.write_text(
            "".join(
                f'"{user}" "{password.replace(chr(34), chr(34) * 2)}"\n'
                for user, password in self.users.items()
            )
        )
        # Any database of the server, by the name the client asks for (the test suite makes
        # one per worker); only the roles of the auth file get in.
        databases = f"* = host=127.0.0.1 port={self.server.port}"
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "pool_mode": "transaction",
            "auth_type": "scram-sha-256",
            "auth_file": str(self.auth_file),
            "max_client_conn": "2000",
            "default_pool_size": str(self.pool_size),
            "reserve_pool_size": "5",
            "client_tls_sslmode": "require" if self.server.tls_only else "allow",
            "client_tls_cert_file": str(cert),
            "client_tls_key_file": str(key),
            "client_tls_protocols": "tlsv1.2,tlsv1.3",
            "server_tls_sslmode": "verify-full",
            "server_tls_ca_file": str(ca),
            "server_tls_protocols": "tlsv1.2,tlsv1.3",
            # Fail fast while PostgreSQL is down (the API answers 503 and Retry-After).
            "query_wait_timeout": "10",
            "server_connect_timeout": "5",
            "server_login_retry": "1",
            "log_connections": "0",
            "log_disconnections": "0",
        }
        self.config_file.write_text(
            "# written by the stack manager on every start\n"
            f"[databases]\n{databases}\n\n[pgbouncer]\n"
            + "".join(f"{k} = {v}\n" for k, v in settings.items())
        )


def server_binary() -> Path:
    found = shutil.which("pgbouncer") or next((p for p in BINARY_PATHS if Path(p).exists()), None)
    if found is None:
        apt_install("pgbouncer", "PgBouncer (pgbouncer)", "or leave LOCAL_PGBOUNCER unset")
        found = shutil.which("pgbouncer") or next(
            (p for p in BINARY_PATHS if Path(p).exists()), None
        )
    if found is None:
        raise StackError("pgbouncer was installed but is not found")
    return Path(found)
