"""FerretDB 1.24 (a MongoDB wire-protocol server) for development and tests.

Built from the Go module proxy through the launcher in tools/ferretdb; the binary is cached
under DATA_DIR/bin, named by a hash of the launcher's sources, so it is rebuilt only when the
launcher (or its pinned FerretDB version) changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from oneenglish.stack.errors import StackError
from oneenglish.stack.process import (
    PidFileServer,
    port_holder,
    port_is_open,
    spawn,
    wait_ready,
)
from oneenglish.stack.tls import LocalTLS

LAUNCHER_DIR = Path(__file__).resolve().parents[3] / "tools" / "ferretdb"
LAUNCHER_SOURCES = ("go.mod", "go.sum", "main.go")


@dataclass(frozen=True)
class FerretDBStatus:
    running: bool
    pid: int | None
    port: int
    backend: str


class LocalFerretDB(PidFileServer):
    def __init__(
        self,
        root: Path,
        bin_dir: Path,
        port: int,
        *,
        tls: LocalTLS,
        backend: Literal["sqlite", "postgresql"] = "sqlite",
        postgresql_url: str | None = None,
        credentials: tuple[str, str] | None = None,
        tls_only: bool = True,
    ) -> None:
        self.root = root.resolve()
        self.bin_dir = bin_dir.resolve()
        self.port = port
        self.backend = backend
        self.postgresql_url = postgresql_url
        self.tls = tls
        # Who the readiness check authenticates as (the backend refuses anonymous clients).
        self.credentials = credentials
        self.tls_only = tls_only
        self.pid_file = self.root / "ferretdb.pid"
        self.log_file = self.root / "ferretdb.log"
        self.sqlite_dir = self.root / "sqlite"

    def status(self) -> FerretDBStatus:
        pid = self.pid()
        return FerretDBStatus(pid is not None, pid, self.port, self.backend)

    def start(self) -> bool:
        """Start the server if needed; returns True when this call started it."""
        if self.pid() is not None:
            self._wait_ready(timeout=15, pid=None)
            return False
        if port_is_open(self.port):
            raise StackError(
                f"FerretDB: port 127.0.0.1:{self.port} is taken by "
                f"{port_holder(self.port)}; "
                "stop it or set LOCAL_MONGODB_PORT (or MONGODB_URL to use that server)"
            )
        binary = build_binary(self.bin_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls.ensure()
        address = f"127.0.0.1:{self.port}"
        # TLS only: no plain-text listener at all (unless LOCAL_DATABASE_TLS is off).
        tls = ["-tls-cert", str(self.tls.cert_file), "-tls-key", str(self.tls.key_file)]
        listeners = (
            ["-listen", "", "-tls-listen", address, *tls] if self.tls_only else ["-listen", address]
        )
        argv = [str(binary), *listeners, "-handler", self.backend]
        if self.backend == "sqlite":
            self.sqlite_dir.mkdir(exist_ok=True)
            argv += ["-sqlite-url", f"file:{self.sqlite_dir}/"]
        else:
            if not self.postgresql_url:
                raise StackError("FerretDB: the postgresql backend needs a PostgreSQL URL")
            argv += ["-postgresql-url", self.postgresql_url]
        pid = spawn(argv, log_file=self.log_file, pid_file=self.pid_file)
        self._wait_ready(timeout=30, pid=pid)
        return True

    def _wait_ready(self, timeout: float, pid: int | None) -> None:
        user, password = self.credentials or (None, None)
        client: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://localhost:{self.port}/",
            serverSelectionTimeoutMS=300,
            connectTimeoutMS=300,
            directConnection=True,
            tls=self.tls_only,
            tlsCAFile=str(self.tls.ca_file) if self.tls_only else None,
            username=user,
            password=password,
            authMechanism="PLAIN" if user else None,
        )
        try:
            wait_ready(
                f"FerretDB on port {self.port}",
                lambda: client.admin.command("ping"),
                pid=pid,
                log_file=self.log_file,
                timeout=timeout,
                failures=(PyMongoError,),
            )
        finally:
            client.close()


def launcher_hash() -> str:
    digest = hashlib.sha256()
    for name in LAUNCHER_SOURCES:
        digest.update(name.encode())
        digest.update((LAUNCHER_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def build_binary(bin_dir: Path) -> Path:
    """The launcher binary for the current sources, built once and cached."""
    if not (LAUNCHER_DIR / "main.go").exists():
        raise StackError(f"FerretDB: launcher sources not found in {LAUNCHER_DIR}")
    binary = bin_dir / f"ferretdb-{launcher_hash()}"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise StackError(
            "FerretDB: Go >= 1.24 is needed to build the local MongoDB-wire server "
            "(or set MONGODB_URL to a MongoDB)"
        )
    bin_dir.mkdir(parents=True, exist_ok=True)
    partial = bin_dir / f".{binary.name}.partial-{os.getpid()}"
    result = subprocess.run(
        [go, "build", "-trimpath", "-mod=readonly", "-o", str(partial), "."],
        cwd=LAUNCHER_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise StackError(f"FerretDB: the launcher build failed:\n{result.stderr[-4000:]}")
    partial.replace(binary)
    for stale in bin_dir.glob("ferretdb-*"):
        if stale != binary:
            stale.unlink(missing_ok=True)
    return binary
