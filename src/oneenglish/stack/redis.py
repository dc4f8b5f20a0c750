"""Redis, for the real-time fan-out when asked (LOCAL_REDIS=true): Debian's `redis-server`,
installed by apt if missing, started on loopback with TLS only (the local stack's
certificate) and a password, keeping nothing on disk (it only relays pointers to events that
PostgreSQL stores).

The password is in a configuration file readable by its owner only, never on the command
line (which `ps` shows to every user).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from oneenglish.stack.errors import StackError
from oneenglish.stack.packages import apt_install
from oneenglish.stack.process import (
    PidFileServer,
    ensure_port_free,
    spawn,
    wait_listening,
)
from oneenglish.stack.tls import LocalTLS

START_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class RedisStatus:
    running: bool
    pid: int | None
    port: int


class LocalRedis(PidFileServer):
    def __init__(self, root: Path, port: int, *, tls: LocalTLS, password: str) -> None:
        self.root = root.resolve()
        self.port = port
        self.tls = tls
        self.password = password
        self.pid_file = self.root / "redis.pid"
        self.log_file = self.root / "redis.log"
        self.config_file = self.root / "redis.conf"

    def status(self) -> RedisStatus:
        pid = self.pid()
        return RedisStatus(pid is not None, pid, self.port)

    def start(self) -> bool:
        """Start the server if needed; returns True when this call started it."""
        if self.pid() is not None:
            return False
        ensure_port_free("Redis", self.port, "LOCAL_REDIS_PORT")
        binary = server_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls.ensure()
        self._write_config()
        pid = spawn(
            [str(binary), str(self.config_file)], log_file=self.log_file, pid_file=self.pid_file
        )
        wait_listening(
            "Redis", self.port, pid=pid, log_file=self.log_file, timeout=START_TIMEOUT_SECONDS
        )
        return True

    def _write_config(self) -> None:
        lines = {
            "bind": "127.0.0.1",
            "protected-mode": "yes",
            "port": "0",  # no plain-text port
            "tls-port": str(self.port),
            "tls-cert-file": str(self.tls.cert_file),
            "tls-key-file": str(self.tls.key_file),
            "tls-ca-cert-file": str(self.tls.ca_file),
            "tls-auth-clients": "no",  # clients prove themselves with the password
            "requirepass": self.password,
            "save": '""',  # nothing to keep: PostgreSQL stores the events
            "appendonly": "no",
            "dir": str(self.root),
            "daemonize": "no",
        }
        self.config_file.touch(mode=0o600)
        self.config_file.chmod(0o600)
        self.config_file.write_text("".join(f"{k} {v}\n" for k, v in lines.items()))


def server_binary() -> Path:
    found = shutil.which("redis-server")
    if found is None:
        apt_install("redis-server", "Redis (redis-server)", "or set REDIS_URL to a server")
        found = shutil.which("redis-server")
    if found is None:
        raise StackError("redis-server was installed but is not on PATH")
    return Path(found)
