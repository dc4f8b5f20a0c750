"""A PostgreSQL server for development and tests, run from the machine's own binaries.

We use Debian's `postgresql` package (installed on first use when running as root) rather
than a wheel that bundles the server: it is the supported build for this OS and gets security
updates. The data directory lives under DATA_DIR and survives restarts.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from oneenglish.settings import LOCAL_PG_USER
from oneenglish.stack.errors import StackError
from oneenglish.stack.packages import apt_install
from oneenglish.stack.process import (
    log_tail,
    pid_is_alive,
    port_holder,
    port_is_open,
    read_pid,
    terminate,
)
from oneenglish.stack.tls import LocalTLS

MIN_MAJOR_VERSION = 15
SERVER_USER = "postgres"
# Query auditing (db/privileges.py sets the per-role parts): DDL and role changes by anyone.
AUDIT_SETTINGS = ("pgaudit.log = 'ddl, role'", "pgaudit.log_parameter = off")


@dataclass(frozen=True)
class DatabaseAccess:
    """A database of the stack, its owner, and the roles that may connect to it."""

    name: str
    owner: str
    connect: tuple[str, ...]


@dataclass(frozen=True)
class PostgresStatus:
    running: bool
    pid: int | None
    port: int
    data_dir: Path


class LocalPostgres:
    def __init__(
        self,
        root: Path,
        port: int,
        databases: tuple[DatabaseAccess, ...],
        *,
        tls: LocalTLS,
        passwords: dict[str, str],
        durable: bool = True,
        database_settings: tuple[str, ...] = (),
        tls_only: bool = True,
    ) -> None:
        self.root = root.resolve()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "postgres.log"
        self.password_file = self.root / "superuser-password"
        self.port = port
        self.databases = databases
        self.tls = tls
        self.tls_only = tls_only
        # Login roles and their passwords (LOCAL_ROLES); set on every start, so a changed
        # password file takes effect.
        self.passwords = passwords
        # Test stacks trade crash-of-the-OS durability for speed; a killed server process
        # still loses nothing (the WAL is in the OS page cache).
        self.durable = durable
        # ALTER DATABASE … SET statements applied on every start (idempotent).
        self.database_settings = database_settings

    # -- lifecycle ---------------------------------------------------------------------------

    def status(self) -> PostgresStatus:
        pid = self.pid()
        return PostgresStatus(pid is not None, pid, self.port, self.data_dir)

    def pid(self) -> int | None:
        pid = read_pid(self.data_dir / "postmaster.pid")
        return pid if pid is not None and pid_is_alive(pid) else None

    def start(self) -> bool:
        """Start the server if needed; returns True when this call started it."""
        if self.pid() is not None:
            self._wait_ready(timeout=30)
            self._ensure_databases()
            return False
        if port_is_open(self.port):
            raise StackError(
                f"PostgreSQL: port 127.0.0.1:{self.port} is taken by "
                f"{port_holder(self.port)}; "
                "stop it or set LOCAL_POSTGRES_PORT (or DATABASE_URL to use that server)"
            )
        bindir = find_bindir()
        ensure_pgaudit(bindir)
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir)
        self.tls.ensure()
        self._write_config()
        self._pg_ctl_start(bindir)
        self._wait_ready(timeout=30)
        self._ensure_databases()
        return True

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        bindir = find_bindir()
        result = self._run_as_server(
            [str(bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"],
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            terminate(pid)
        return True

    def allow_replication(self) -> None:
        """Rewrite the configuration (its hba admits the local replicas) and reload it, for a
        server started before the replicas were asked for."""
        self._write_config()
        self.psql("SELECT pg_reload_conf()", database="postgres")

    def kill(self) -> None:
        """SIGKILL the postmaster: a crash, for fault-injection tests."""
        pid = self.pid()
        if pid is not None:
            terminate(pid, timeout=0)

    # -- internals ---------------------------------------------------------------------------

    def _initdb(self, bindir: Path) -> None:
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise StackError(
                f"PostgreSQL: {self.data_dir} is not empty but holds no database cluster; "
                "move it away or delete it"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        self.password_file.write_text(password)
        self.password_file.chmod(0o600)
        pwfile = self.root / ".initdb-pwfile"
        pwfile.write_text(password + "\n")
        self._give_to_server_user(self.root)
        try:
            result = self._run_as_server(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--no-locale",
                ],
                timeout=120,
                check=False,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(f"PostgreSQL: initdb failed:\n{result.stdout}{result.stderr}")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\ninclude_if_exists = 'oneenglish.conf'\n")

    def _write_config(self) -> None:
        # The server reads its certificate and key from its own folder (it refuses a key that
        # others may read), copied there from the stack's TLS folder on every start.
        cert, key = self.root / "server.pem", self.root / "server-key.pem"
        shutil.copyfile(self.tls.cert_file, cert)
        shutil.copyfile(self.tls.key_file, key)
        key.chmod(0o600)
        hba = self.root / "pg_hba.conf"
        # TLS only: a plain-text TCP connection is rejected before authentication.
        plain = "scram-sha-256" if not self.tls_only else "reject"  # LOCAL_DATABASE_TLS
        hba.write_text(
            "# written by the stack manager on every start\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            # The local streaming replicas (LocalPostgresReplica), as the superuser, over TLS.
            "hostssl replication postgres 127.0.0.1/32 scram-sha-256\n"
            f"hostnossl all all 127.0.0.1/32 {plain}\n"
            "hostnossl all all all reject\n"
        )
        lines = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = '256MB'",
            "logging_collector = off",
            "log_min_messages = warning",
            "password_encryption = 'scram-sha-256'",
            f"hba_file = '{hba}'",
            "ssl = on",
            f"ssl_cert_file = '{cert}'",
            f"ssl_key_file = '{key}'",
            "ssl_min_protocol_version = 'TLSv1.2'",
            "shared_preload_libraries = 'pgaudit'",
            # The local streaming replicas (LOCAL_POSTGRES_REPLICAS) have no replication slot:
            # WAL they have not received yet must outlive the checkpoints meanwhile, or a
            # replica whose stream restarts finds its next segment removed and never catches up.
            "wal_keep_size = '256MB'",
            *AUDIT_SETTINGS,
        ]
        if not self.durable:
            lines += ["fsync = off", "full_page_writes = off"]
        path = self.data_dir / "oneenglish.conf"
        path.write_text("\n".join(lines) + "\n")
        for written in (path, hba, cert, key):
            self._give_to_server_user(written)

    def _pg_ctl_start(self, bindir: Path) -> None:
        self.log_file.touch()
        self._give_to_server_user(self.log_file)
        # The previous server may have been killed; its backends take a moment to notice and
        # release shared memory, during which a new start fails. Retry briefly.
        deadline = time.monotonic() + 20
        while True:
            result = self._run_as_server(
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                ],
                timeout=90,
                check=False,
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL failed to start on port {self.port}:\n"
                    f"{result.stdout}{result.stderr}\n--- {self.log_file} ---\n"
                    f"{log_tail(self.log_file)}"
                )
            time.sleep(0.5)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            result = self.psql("SELECT 1", database="postgres", check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL on port {self.port} does not answer:\n{result.stderr}\n"
                    f"--- {self.log_file} ---\n{log_tail(self.log_file)}"
                )
            time.sleep(0.2)

    def _ensure_databases(self) -> None:
        for role, password in self.passwords.items():
            # NOINHERIT and no attributes: each role has exactly the rights granted to it.
            self.psql(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
                f"THEN CREATE ROLE {role} LOGIN NOINHERIT; END IF; END $$; "
                f"ALTER ROLE {role} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION "
                f"PASSWORD '{password}'",
                database="postgres",
            )
        existing = set(
            self.psql("SELECT datname FROM pg_database", database="postgres").stdout.split()
        )
        for database in self.databases:
            name = database.name
            if name not in existing:
                self.psql(f'CREATE DATABASE "{name}" OWNER {database.owner}', database="postgres")
            else:
                _give_database_to(self, database)
            grants = "".join(
                f'GRANT CONNECT ON DATABASE "{name}" TO {r}; ' for r in database.connect
            )
            self.psql(
                f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC; {grants}'
                # Owned by the owner itself, not through pg_database_owner (a NOINHERIT role
                # would not use that membership).
                f"ALTER SCHEMA public OWNER TO {database.owner}; "
                f"REVOKE ALL ON SCHEMA public FROM PUBLIC; "
                f"GRANT USAGE ON SCHEMA public TO {', '.join(database.connect)}; "
                "CREATE EXTENSION IF NOT EXISTS pgaudit",
                database=name,
            )
        for statement in self.database_settings:
            self.psql(statement, database="postgres")

    def psql(
        self, sql: str, *, database: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        bindir = find_bindir()
        env = {
            **os.environ,
            "PGPASSWORD": self.superuser_password(),
            "PGCONNECT_TIMEOUT": "3",
            "PGSSLMODE": "verify-full",
            "PGSSLROOTCERT": str(self.tls.ca_file),
        }
        result = subprocess.run(
            [
                str(bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAqc",
                sql,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise StackError(f"PostgreSQL: {sql!r} failed: {result.stderr.strip()}")
        return result

    def superuser_password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError as exc:
            raise StackError(f"PostgreSQL: {self.password_file} is missing") from exc

    def _run_as_server(
        self, argv: list[str], *, timeout: float, check: bool
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            as_server_user(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            cwd=self.root,
            # Its own session: Ctrl-C in the terminal reaches us, and we stop the server cleanly.
            start_new_session=True,
        )

    def _give_to_server_user(self, path: Path) -> None:
        give_to_server_user(path)


class LocalPostgresReplica(LocalPostgres):
    """A hot standby of `primary` (LOCAL_POSTGRES_REPLICAS): made once by pg_basebackup over
    TLS, then streaming the primary's WAL (`-R`: standby.signal and primary_conninfo). It has
    the primary's roles, databases and privileges by replication, so it creates none; its own
    configuration (port, TLS, hba) is written on every start as the primary's is."""

    def __init__(self, root: Path, port: int, primary: LocalPostgres) -> None:
        super().__init__(
            root,
            port,
            primary.databases,
            tls=primary.tls,
            passwords=primary.passwords,
            durable=primary.durable,
            tls_only=primary.tls_only,
        )
        self.primary = primary
        self.password_file = primary.password_file

    def start(self) -> bool:
        if self.pid() is not None:
            self._wait_ready(timeout=30)
            return False
        if port_is_open(self.port):
            raise StackError(
                f"PostgreSQL replica: port 127.0.0.1:{self.port} is taken by "
                f"{port_holder(self.port)}; stop it or set LOCAL_POSTGRES_REPLICA_PORT"
            )
        bindir = find_bindir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls.ensure()
        if not (self.data_dir / "PG_VERSION").exists():
            self._base_backup(bindir)
        self._write_config()
        self._pg_ctl_start(bindir)
        self._wait_ready(timeout=60)
        return True

    def _base_backup(self, bindir: Path) -> None:
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a partial copy of an interrupted backup
        self.primary.allow_replication()
        self._give_to_server_user(self.root)
        conninfo = (
            f"host=127.0.0.1 port={self.primary.port} user=postgres "
            f"password={self.superuser_password()} sslmode=verify-full "
            f"sslrootcert={self.tls.ca_file} application_name=oneenglish_replica"
        )
        result = self._run_as_server(
            [
                str(bindir / "pg_basebackup"),
                "-d",
                conninfo,
                "-D",
                str(self.data_dir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
            ],
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise StackError(
                f"PostgreSQL replica: pg_basebackup from :{self.primary.port} failed:\n"
                f"{result.stdout}{result.stderr}"
            )

    def lag_bytes(self) -> int | None:
        """How far the replica's replay is behind the primary's WAL (None: not measurable)."""
        current = self.primary.psql("SELECT pg_current_wal_lsn()", database="postgres").stdout
        replayed = self.psql(
            f"SELECT pg_wal_lsn_diff('{current.strip()}', pg_last_wal_replay_lsn())",
            database="postgres",
            check=False,
        ).stdout.strip()
        return int(float(replayed)) if replayed else None


def give_to_server_user(path: Path) -> None:
    """As root: make a file, or a folder and all it holds, the `postgres` system user's."""
    if os.geteuid() != 0:
        return
    _ensure_server_user()
    entry = pwd.getpwnam(SERVER_USER)
    for dirpath, _dirnames, filenames in os.walk(path) if path.is_dir() else []:
        os.chown(dirpath, entry.pw_uid, entry.pw_gid)
        for name in filenames:
            os.chown(Path(dirpath) / name, entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    if path.is_dir():
        path.chmod(0o700)


def as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root. As root we drop to the `postgres` system user, keeping
    only CAP_DAC_READ_SEARCH so the server can reach a data folder below root-only directories
    (a clone inside `mktemp -d`, for instance) without us loosening their permissions."""
    if os.geteuid() != 0:
        return argv
    _ensure_server_user()
    return [
        "setpriv",
        f"--reuid={SERVER_USER}",
        f"--regid={SERVER_USER}",
        "--init-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        *argv,
    ]


def _ensure_server_user() -> None:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )


def _give_database_to(server: LocalPostgres, database: DatabaseAccess) -> None:
    """A database made before the roles were split: hand it, and (FerretDB's backing database)
    every schema and table in it, to the owner it has now. Idempotent."""
    owner = database.owner
    # The names are the stack's own constants, not input.
    server.psql(
        f'ALTER DATABASE "{database.name}" OWNER TO {owner}; '  # noqa: S608
        "DO $$ DECLARE r record; BEGIN "
        "FOR r IN SELECT nspname FROM pg_namespace WHERE nspowner = "
        f"'{LOCAL_PG_USER}'::regrole AND '{owner}' <> '{LOCAL_PG_USER}' LOOP "
        f"EXECUTE format('ALTER SCHEMA %I OWNER TO {owner}', r.nspname); END LOOP; "
        "FOR r IN SELECT c.oid::regclass AS t FROM pg_class c WHERE c.relowner = "
        f"'{LOCAL_PG_USER}'::regrole AND c.relkind IN ('r', 'p', 'S', 'v') "
        f"AND '{owner}' <> '{LOCAL_PG_USER}' LOOP "
        f"EXECUTE format('ALTER TABLE %s OWNER TO {owner}', r.t); END LOOP; END $$",
        database=database.name,
    )


def ensure_pgaudit(bindir: Path) -> None:
    """pgaudit for the server's major version (Debian's postgresql-NN-pgaudit)."""
    major = bindir.parts[-2] if bindir.parts[-1] == "bin" else ""
    library = Path(f"/usr/lib/postgresql/{major}/lib/pgaudit.so")
    if library.exists():
        return
    _apt_install(f"postgresql-{major}-pgaudit", "pgaudit (query auditing)")
    if not library.exists():
        raise StackError(f"pgaudit: installed with apt-get but {library} is missing")


def find_bindir() -> Path:
    """The newest installed PostgreSQL (>= 15) server binaries; installs Debian's if none."""
    found = _installed_bindir()
    if found is not None:
        return found
    _install_with_apt()
    found = _installed_bindir()
    if found is None:
        raise StackError("PostgreSQL: installed with apt-get but no initdb was found")
    return found


def _installed_bindir() -> Path | None:
    candidates: list[tuple[int, Path]] = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        with contextlib.suppress(ValueError):
            candidates.append((int(Path(initdb).parts[-3]), Path(initdb).parent))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(out.stdout.strip())
        version = subprocess.run(
            [pg_config, "--version"], capture_output=True, text=True, check=False
        ).stdout.split()
        if (bindir / "initdb").exists() and len(version) >= 2:
            with contextlib.suppress(ValueError):
                candidates.append((int(version[1].split(".")[0]), bindir))
    usable = [c for c in candidates if c[0] >= MIN_MAJOR_VERSION]
    return max(usable)[1] if usable else None


def _install_with_apt() -> None:
    _apt_install("postgresql", f"PostgreSQL >= {MIN_MAJOR_VERSION} server binaries")


def _apt_install(package: str, what: str) -> None:
    apt_install(package, what, "or set DATABASE_URL to a server")
