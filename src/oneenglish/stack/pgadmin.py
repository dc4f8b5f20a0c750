"""pgAdmin 4 on loopback, beside the local PostgreSQL (the design document's port 5050).

Installed from PyPI into a virtual environment of its own under DATA_DIR/tools (its pins are
strict and must not touch ours), once per pinned version. Server mode, not desktop mode:
desktop mode has no login at all, so any process or user on the machine could browse the
database through it; server mode asks for a login, generated here and kept under DATA_DIR.
The local PostgreSQL is preregistered, connected as the read-only reporting role over
verified TLS, its password in a pgpass file of the pgAdmin user's storage (never in pgAdmin's
own database or the servers file).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from oneenglish.stack.errors import StackError
from oneenglish.stack.process import (
    ensure_port_free,
    install_lock,
    live_pid,
    spawn,
    stop_by_pid_file,
    wait_http,
)

VERSION = "9.18"
LOGIN_EMAIL = "admin@oneenglish.dev"
SERVER_NAME = "OneEnglish (local)"


@dataclass(frozen=True)
class PgAdminTarget:
    """The server pgAdmin opens: the local PostgreSQL, as the reporting role."""

    port: int
    database: str
    role: str
    password: str
    ca_file: Path


class LocalPgAdmin:
    def __init__(
        self, root: Path, tools_dir: Path, port: int, login_password: str, target: PgAdminTarget
    ) -> None:
        self.root = root.resolve()
        self.tools_dir = tools_dir.resolve()
        self.venv = self.tools_dir / f"pgadmin4-{VERSION}"
        self.port = port
        self.login_password = login_password
        self.target = target
        self.data_dir = self.root / "data"
        self.config_file = self.root / "config_oneenglish.py"
        self.pid_file = self.root / "pgadmin.pid"
        self.log_file = self.root / "pgadmin.log"
        self.setup_marker = self.data_dir / ".oneenglish-setup"
        self.servers_marker = self.data_dir / ".oneenglish-servers"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        return live_pid(self.pid_file)

    def start(self) -> bool:
        """Install (once), configure and start pgAdmin; True when this call started it."""
        if self.pid() is not None:
            return False
        ensure_port_free("pgAdmin", self.port, "LOCAL_PGADMIN_PORT")
        self._install_once()
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_config()
        if not self.setup_marker.exists():
            # Creates pgAdmin's configuration database and its one (administrator) login.
            self._cli(
                "setup-db",
                extra_env={
                    "PGADMIN_SETUP_EMAIL": LOGIN_EMAIL,
                    "PGADMIN_SETUP_PASSWORD": self.login_password,
                },
            )
            self.setup_marker.write_text(VERSION + "\n")
        self._register_server()
        pid = spawn(
            [str(self.venv / "bin" / "pgadmin4")],
            log_file=self.log_file,
            pid_file=self.pid_file,
            cwd=self.root,
            env=self._env(),
        )
        wait_http("pgAdmin", f"{self.url}/misc/ping", pid=pid, log_file=self.log_file, timeout=90)
        return True

    def stop(self) -> bool:
        return stop_by_pid_file(self.pid_file)

    def _install_once(self) -> None:
        with install_lock(self.tools_dir):
            self._install()

    def _install(self) -> None:
        marker = self.venv / ".oneenglish-installed"
        if marker.exists():
            return
        shutil.rmtree(self.venv, ignore_errors=True)
        uv = _find_uv(self.tools_dir)
        python = shutil.which("python3") or sys.executable
        steps = (
            [
                [uv, "venv", "--quiet", "--python", python, str(self.venv)],
                [uv, "pip", "install", "--quiet", "--python", str(self.venv / "bin" / "python"),
                 f"pgadmin4=={VERSION}"],
            ]
            if uv
            else [
                [python, "-m", "venv", str(self.venv)],
                [str(self.venv / "bin" / "pip"), "install", "--quiet",
                 "--disable-pip-version-check", f"pgadmin4=={VERSION}"],
            ]
        )  # fmt: skip
        for argv in steps:
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                shutil.rmtree(self.venv, ignore_errors=True)
                raise StackError(f"pgAdmin: `{' '.join(argv)}` failed:\n{result.stderr[-3000:]}")
        marker.write_text(VERSION + "\n")

    def _write_config(self) -> None:
        # pgAdmin reads this file after its own config.py (CONFIG_DISTRO_FILE_PATH): nothing
        # inside the installed package is edited.
        settings = {
            "SERVER_MODE": True,
            "DEFAULT_SERVER": "127.0.0.1",
            "DEFAULT_SERVER_PORT": self.port,
            "DATA_DIR": str(self.data_dir),
            "LOG_FILE": str(self.root / "pgadmin4.log"),
            "SQLITE_PATH": str(self.data_dir / "pgadmin4.db"),
            "SESSION_DB_PATH": str(self.data_dir / "sessions"),
            "STORAGE_DIR": str(self.data_dir / "storage"),
            "AZURE_CREDENTIAL_CACHE_DIR": str(self.data_dir / "azurecredentialcache"),
            "KERBEROS_CCACHE_DIR": str(self.data_dir / "krbccache"),
            "MASTER_PASSWORD_REQUIRED": False,
            "UPGRADE_CHECK_ENABLED": False,
            "CONSOLE_LOG_LEVEL": 30,
        }
        lines = [f"{name} = {value!r}" for name, value in settings.items()]
        self.config_file.write_text(
            "# Written by `oneenglish admin up`.\n" + "\n".join(lines) + "\n"
        )

    def _register_server(self) -> None:
        """The local PostgreSQL in pgAdmin's tree, and its password where pgAdmin finds it."""
        storage = self.data_dir / "storage" / LOGIN_EMAIL.replace("@", "_")
        storage.mkdir(parents=True, exist_ok=True)
        target = self.target
        passfile = storage / "pgpass"
        passfile.touch(mode=0o600)
        passfile.write_text(
            f"127.0.0.1:{target.port}:{target.database}:{target.role}:{_pgpass_escape(target.password)}\n"
        )
        shutil.copyfile(target.ca_file, storage / "oneenglish-ca.pem")
        servers = {
            "Servers": {
                "1": {
                    "Name": SERVER_NAME,
                    "Group": "OneEnglish",
                    "Host": "127.0.0.1",
                    "Port": target.port,
                    "MaintenanceDB": target.database,
                    "Username": target.role,
                    "Comment": "The local stack, as the read-only reporting role",
                    # Relative paths: pgAdmin resolves them in the user's storage folder.
                    "ConnectionParameters": {
                        "sslmode": "verify-full",
                        "sslrootcert": "oneenglish-ca.pem",
                        "passfile": "pgpass",
                        "connect_timeout": 10,
                    },
                }
            }
        }
        text = json.dumps(servers, indent=2)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if self.servers_marker.exists() and self.servers_marker.read_text().strip() == digest:
            return
        servers_file = self.root / "servers.json"
        servers_file.write_text(text)
        self._cli("load-servers", str(servers_file), "--user", LOGIN_EMAIL, "--replace")
        self.servers_marker.write_text(digest + "\n")

    def _cli(self, *args: str, extra_env: dict[str, str] | None = None) -> None:
        result = subprocess.run(
            [str(self.venv / "bin" / "pgadmin4-cli"), *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=self.root,
            env={**self._env(), **(extra_env or {})},
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"pgAdmin: `pgadmin4-cli {args[0]}` failed:\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        return {**env, "CONFIG_DISTRO_FILE_PATH": str(self.config_file)}


def _pgpass_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def _find_uv(tools_dir: Path) -> str | None:
    """The uv the Makefile installs (fast, cached wheels), or one on PATH; None: venv + pip."""
    installed = tools_dir / "bin" / "uv"
    return str(installed) if installed.exists() else shutil.which("uv")
