"""Mailpit: a real SMTP server that catches every mail on loopback, for development and tests.

The pinned module (tools/mailpit/go.mod, checked against its go.sum) comes from the Go module
proxy. Its module zip holds the web UI's sources but not their build, so the build copies the
module, builds the UI with npm (`npm ci` from its own lock file, scripts off) and then the
binary, once per pin, into .data/tools (shared by every stack of the checkout, the tests'
too). The SMTP side requires STARTTLS with the local stack's certificate and accepts any
credentials; the web UI and its HTTP API (which the tests read mail through) listen on
loopback only.
"""

from __future__ import annotations

import json
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
from oneenglish.stack.tls import LocalTLS

REPO = Path(__file__).resolve().parents[3]
PIN_DIR = REPO / "tools" / "mailpit"
PIN_FILES = ("go.mod", "go.sum")
TOOLS_DIR = REPO / ".data" / "tools"
# Enough for a whole test run (every registration sends a mail); older ones are pruned.
MAX_MESSAGES = 20_000


@dataclass(frozen=True)
class MailpitStatus:
    running: bool
    pid: int | None
    smtp_port: int
    ui_port: int


class LocalMailpit(PidFileServer):
    def __init__(self, root: Path, smtp_port: int, ui_port: int, *, tls: LocalTLS) -> None:
        self.root = root.resolve()
        self.smtp_port = smtp_port
        self.ui_port = ui_port
        self.tls = tls
        self.pid_file = self.root / "mailpit.pid"
        self.log_file = self.root / "mailpit.log"

    @property
    def url(self) -> str:
        """The web UI, and its HTTP API under /api/v1."""
        return f"http://127.0.0.1:{self.ui_port}"

    def status(self) -> MailpitStatus:
        pid = self.pid()
        return MailpitStatus(pid is not None, pid, self.smtp_port, self.ui_port)

    def start(self) -> bool:
        """Start the server if needed; returns True when this call started it."""
        if self.pid() is not None:
            return False
        ensure_port_free("Mailpit (SMTP)", self.smtp_port, "LOCAL_SMTP_PORT")
        ensure_port_free("Mailpit (web UI)", self.ui_port, "LOCAL_MAILPIT_UI_PORT")
        binary = build_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls.ensure()
        argv = [
            str(binary),
            "--smtp",
            f"127.0.0.1:{self.smtp_port}",
            "--listen",
            f"127.0.0.1:{self.ui_port}",
            "--database",
            str(self.root / "mailpit.db"),
            "--max",
            str(MAX_MESSAGES),
            "--smtp-tls-cert",
            str(self.tls.cert_file),
            "--smtp-tls-key",
            str(self.tls.key_file),
            "--smtp-require-starttls",
            "--smtp-auth-accept-any",
            "--disable-version-check",
            "--quiet",
        ]
        pid = spawn(argv, log_file=self.log_file, pid_file=self.pid_file)
        wait_http("Mailpit", f"{self.url}/readyz", pid=pid, log_file=self.log_file, timeout=30)
        return True


TOOL = PinnedTool("mailpit", PIN_DIR, PIN_FILES)


def build_binary(tools_dir: Path = TOOLS_DIR) -> Path:
    """The Mailpit binary for the pinned version, built once and cached."""
    return TOOL.binary(tools_dir, lambda binary: _build(binary, tools_dir / "build" / "mailpit"))


def _run(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False, env=env
    )
    if result.returncode != 0:
        raise StackError(f"Mailpit: {what} failed:\n{(result.stderr or result.stdout)[-4000:]}")
    return result.stdout


def _build(binary: Path, work: Path) -> None:
    go, npm = shutil.which("go"), shutil.which("npm")
    if go is None or npm is None:
        raise StackError(
            "Mailpit: Go >= 1.24 and npm are needed to build the local mail catcher "
            "(or set SMTP_URL to an SMTP server)"
        )
    source = json.loads(
        _run([go, "mod", "download", "-json", "github.com/axllent/mailpit"], PIN_DIR, "download")
    )["Dir"]
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, work)
    for path in (work, *work.rglob("*")):  # the module cache is read-only
        path.chmod(path.stat().st_mode | 0o200)
    _run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], work, "the web UI's npm ci")
    _run([npm, "run", "package"], work, "the web UI's build")
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.parent / f".{binary.name}.partial-{os.getpid()}"
    _run([go, "build", "-trimpath", "-o", str(partial), "."], work, "go build")
    partial.replace(binary)
    shutil.rmtree(work, ignore_errors=True)
    for stale in binary.parent.glob("mailpit-*"):
        if stale != binary:
            stale.unlink(missing_ok=True)
