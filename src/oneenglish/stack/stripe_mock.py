"""stripe-mock: Stripe's official mock of its API, for development and tests.

The pinned module (tools/stripe-mock/go.mod, checked against its go.sum) comes from the Go
module proxy and is built once per pin into .data/tools (shared by every stack of the
checkout, the tests' too). It answers every Stripe API call with a valid object of the right
shape (stateless: ids are new, the request's fields are reflected) and accepts any test key.
It listens on loopback over plain HTTP: its HTTPS uses a certificate of its own that no CA
vouches for, and what it carries is fake (test keys, mock objects).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from oneenglish.stack.errors import StackError
from oneenglish.stack.process import (
    PidFileServer,
    PinnedTool,
    ensure_port_free,
    spawn,
    wait_http,
)

REPO = Path(__file__).resolve().parents[3]
PIN_DIR = REPO / "tools" / "stripe-mock"
PIN_FILES = ("go.mod", "go.sum", "tools.go")
TOOLS_DIR = REPO / ".data" / "tools"
MODULE = "github.com/stripe/stripe-mock"


@dataclass(frozen=True)
class StripeMockStatus:
    running: bool
    pid: int | None
    port: int


class LocalStripeMock(PidFileServer):
    def __init__(self, root: Path, port: int) -> None:
        self.root = root.resolve()
        self.port = port
        self.pid_file = self.root / "stripe-mock.pid"
        self.log_file = self.root / "stripe-mock.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> StripeMockStatus:
        pid = self.pid()
        return StripeMockStatus(pid is not None, pid, self.port)

    def start(self) -> bool:
        """Start the server if needed; returns True when this call started it."""
        if self.pid() is not None:
            return False
        ensure_port_free("stripe-mock", self.port, "LOCAL_STRIPE_MOCK_PORT")
        binary = build_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        # Its HTTPS side cannot be turned off (it would listen on every address, port 12112):
        # it gets a Unix socket of its own that nothing uses.
        https_socket = self.root / "https.sock"
        https_socket.unlink(missing_ok=True)
        argv = [
            str(binary),
            "-http-addr",
            f"127.0.0.1:{self.port}",
            "-https-unix",
            str(https_socket),
        ]
        pid = spawn(argv, log_file=self.log_file, pid_file=self.pid_file)
        # Any answer will do (401 without a key): the server is up.
        wait_http(
            "stripe-mock", f"{self.url}/v1/charges", pid=pid, log_file=self.log_file, timeout=30
        )
        return True


TOOL = PinnedTool("stripe-mock", PIN_DIR, PIN_FILES)


def build_binary(tools_dir: Path = TOOLS_DIR) -> Path:
    """The stripe-mock binary for the pinned version, built once and cached."""
    return TOOL.binary(tools_dir, lambda binary: _build(binary))


def _build(binary: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise StackError(
            "stripe-mock: Go >= 1.24 is needed to build the local Stripe mock "
            "(or set STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET)"
        )
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.parent / f".{binary.name}.partial-{os.getpid()}"
    result = subprocess.run(
        [go, "build", "-mod=readonly", "-trimpath", "-o", str(partial), MODULE],
        cwd=PIN_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"stripe-mock: go build failed:\n{(result.stderr or result.stdout)[-4000:]}"
        )
    partial.replace(binary)
    for stale in binary.parent.glob("stripe-mock-*"):
        if stale != binary:
            stale.unlink(missing_ok=True)
