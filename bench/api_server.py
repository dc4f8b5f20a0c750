"""The API under test: `oneenglish serve` with production settings.

The server runs in a session of its own, so that the fallback kill reaches its workers too,
and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass

import httpx

from bench.environment import BenchEnv, cli_path

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0


class ApiFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # an OpenAPI path template, e.g. /api/users/{user_id}

    @property
    def shape(self) -> tuple[str, str]:
        """Parameter names differ between the issue and the code; compare the shape only."""
        return self.method.upper(), re.sub(r"\{[^}]*\}", "{}", self.path.rstrip("/") or "/")

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


class ApiServer:
    def __init__(self, env: BenchEnv) -> None:
        self.env = env
        self.log_path = env.run_dir / "api.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ApiFailed("the API is not running")
        return self.process.pid

    def start(self) -> None:
        with self.log_path.open("wb") as log:  # this run's log only
            self.process = subprocess.Popen(
                [str(cli_path()), "serve"],
                cwd=self.env.data_dir,
                env=self.env.process_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        with httpx.Client(base_url=self.env.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ApiFailed(f"the API exited at start-up; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/health/ready").status_code == 200:
                        return
                time.sleep(0.2)
        self.stop()
        raise ApiFailed(
            f"the API was not ready in {START_TIMEOUT_SECONDS:.0f} s; see {self.log_path}"
        )

    def logged_errors(self) -> int:
        """Lines the API logged at level error (unhandled exceptions, mostly)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return 0
        return sum('"level":"error"' in line for line in lines)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # uvicorn's supervisor stops its workers on SIGTERM; the group kill is the fallback.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
