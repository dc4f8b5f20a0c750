"""Real API and worker processes for crash tests: started, killed with SIGKILL, restarted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from oneenglish.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / ".venv" / "bin" / "oneenglish"
# Never let a developer's environment point a crash test at their own databases.
_SCRUBBED = {
    "DATABASE_URL",
    "MONGODB_URL",
    "SMTP_URL",
    "REDIS_URL",
    "DATA_DIR",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(settings: Settings, **overrides: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(
        {
            "ENVIRONMENT": "test",
            "DATA_DIR": str(settings.data_dir),
            "LOCAL_POSTGRES_PORT": str(settings.local_postgres_port),
            "LOCAL_MONGODB_PORT": str(settings.local_mongodb_port),
            "LOCAL_SMTP_PORT": str(settings.local_smtp_port),
            "LOCAL_MAILPIT_UI_PORT": str(settings.local_mailpit_ui_port),
            "LOCAL_REDIS": str(settings.local_redis).lower(),
            "LOCAL_REDIS_PORT": str(settings.local_redis_port),
            "LOCAL_STRIPE_MOCK_PORT": str(settings.local_stripe_mock_port),
            "LOCAL_PGBOUNCER": str(settings.local_pgbouncer).lower(),
            "LOCAL_PGBOUNCER_PORT": str(settings.local_pgbouncer_port),
            "LOCAL_POSTGRES_DATABASE": settings.local_postgres_database,
            "MONGODB_DATABASE": settings.mongodb_database,
            "MONGODB_SERVER_SELECTION_TIMEOUT": str(settings.mongodb_server_selection_timeout),
            "PASSWORD_HASH_TIME_COST": str(settings.password_hash_time_cost),
            "PASSWORD_HASH_MEMORY_KIB": str(settings.password_hash_memory_kib),
            "LOG_LEVEL": "WARNING",
        }
    )
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.mongodb_url:
        env["MONGODB_URL"] = settings.mongodb_url
    env.update({k.upper(): str(v) for k, v in overrides.items()})
    return env


class ApiProcess:
    def __init__(self, settings: Settings, *, workers: int = 1, **overrides: object) -> None:
        self.port = free_port()
        self.workers = workers
        self.env = environment(settings, port=self.port, **overrides)
        # No .env in the working directory: only the variables above apply.
        self.workdir = Path(tempfile.mkdtemp(prefix="oneenglish-api-"))
        self.log = self.workdir / "api.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CLI), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, attempts: int = 150) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            for _ in range(attempts):
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"API exited:\n{self.log.read_text()[-3000:]}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"API did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.asynccontextmanager
async def running(*apis: ApiProcess) -> AsyncIterator[tuple[ApiProcess, ...]]:
    """The API processes started and ready for the block, stopped after it."""
    for api in apis:
        api.start()
    try:
        await asyncio.gather(*(api.wait_ready() for api in apis))
        yield apis
    finally:
        for api in apis:
            api.stop()


def run_cli(settings: Settings, *args: str, **overrides: object) -> subprocess.Popen[bytes]:
    workdir = tempfile.mkdtemp(prefix="oneenglish-cli-")
    return subprocess.Popen(
        [str(CLI), *args],
        cwd=workdir,
        env=environment(settings, **overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
