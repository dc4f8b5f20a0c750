"""Small process helpers shared by the local servers."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from oneenglish.stack.errors import StackError


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def pid_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not a running server.
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/stat").read_text()
        if status.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def read_pid(path: Path) -> int | None:
    try:
        first_line = path.read_text().splitlines()[0].strip()
        return int(first_line)
    except (FileNotFoundError, IndexError, ValueError):
        return None


def terminate(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL: a clean stop that never hangs."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if wait_for_exit(pid, timeout):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_for_exit(pid, 5.0)


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Reap it if it is our child, so it does not linger as a zombie.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_is_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_is_alive(pid)


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def port_holder(port: int) -> str:
    """Who listens on a loopback port, for the message that says it is taken: "pid 123
    (nginx)", or "another process" where the system does not tell us."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return "another process"
    for connection in connections:
        address = connection.laddr
        listening = connection.status == psutil.CONN_LISTEN
        if listening and isinstance(address, tuple) and address and address[1] == port:
            if connection.pid is None:
                return "another process"
            try:
                return f"pid {connection.pid} ({psutil.Process(connection.pid).name()})"
            except psutil.Error:
                return f"pid {connection.pid}"
    return "another process"


def ensure_port_free(name: str, port: int, setting: str) -> None:
    if port_is_open(port):
        raise StackError(
            f"{name}: port 127.0.0.1:{port} is taken by {port_holder(port)}; "
            f"stop it or set {setting} to another port"
        )


def live_pid(pid_file: Path) -> int | None:
    """The pid in a server's pid file, if that process still runs."""
    pid = read_pid(pid_file)
    return pid if pid is not None and pid_is_alive(pid) else None


def stop_by_pid_file(pid_file: Path) -> bool:
    """Stop the server a pid file names (SIGTERM, then SIGKILL); True if one was running."""
    pid = live_pid(pid_file)
    if pid is not None:
        terminate(pid)
    pid_file.unlink(missing_ok=True)
    return pid is not None


class PidFileServer:
    """A server the stack spawned, known by its pid file (`spawn`)."""

    pid_file: Path

    def pid(self) -> int | None:
        return live_pid(self.pid_file)

    def stop(self) -> bool:
        """SIGTERM, then SIGKILL; True if it was running."""
        return stop_by_pid_file(self.pid_file)

    def kill(self) -> None:
        """SIGKILL the server: a crash, for fault-injection tests."""
        pid = self.pid()
        if pid is not None:
            terminate(pid, timeout=0)


def spawn(
    argv: list[str],
    *,
    log_file: Path,
    pid_file: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start a server in a session of its own (Ctrl-C in the terminal reaches us, and we stop
    it cleanly), its output appended to log_file, its pid kept in pid_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def wait_ready(
    name: str,
    probe: Callable[[], object],
    *,
    pid: int | None,
    log_file: Path,
    timeout: float,
    failures: tuple[type[Exception], ...] = (OSError,),
    interval: float = 0.1,
) -> None:
    """Until `probe` succeeds (it raises one of `failures` while the server is not ready); a
    clear error if the server exits first (it logs and exits on a bad configuration) or is not
    ready in time."""
    deadline = time.monotonic() + timeout
    while True:
        if pid is not None and not pid_is_alive(pid):
            raise StackError(
                f"{name} exited during start-up:\n--- {log_file} ---\n{log_tail(log_file)}"
            )
        try:
            probe()
            return
        except failures as exc:
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} is not ready after {timeout:.0f} s: {exc}\n"
                    f"--- {log_file} ---\n{log_tail(log_file)}"
                ) from exc
        time.sleep(interval)


def wait_http(name: str, url: str, *, pid: int, log_file: Path, timeout: float) -> None:
    """Until `url` answers with any HTTP status."""

    def answers() -> None:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (a loopback URL of ours)
                return
        except urllib.error.HTTPError:
            return  # it answered

    wait_ready(f"{name} at {url}", answers, pid=pid, log_file=log_file, timeout=timeout)


def wait_listening(name: str, port: int, *, pid: int, log_file: Path, timeout: float) -> None:
    """Until 127.0.0.1:`port` accepts connections."""

    def listens() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return

    wait_ready(f"{name} on 127.0.0.1:{port}", listens, pid=pid, log_file=log_file, timeout=timeout)


@contextlib.contextmanager
def install_lock(directory: Path) -> Iterator[None]:
    """One installer at a time per tools directory (parallel test workers share it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".install.lock").open("w") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


@dataclass(frozen=True)
class PinnedTool:
    """A server built from pinned sources (a go.mod and go.sum of ours), once per pin: the
    binary is named by a hash of the pin files, so changing the pin rebuilds it and nothing
    else does; parallel test workers wait on one build (install_lock)."""

    name: str
    pin_dir: Path
    pin_files: tuple[str, ...]

    def pin_hash(self) -> str:
        digest = hashlib.sha256()
        for name in self.pin_files:
            digest.update((self.pin_dir / name).read_bytes())
        return digest.hexdigest()[:16]

    def binary(self, tools_dir: Path, build: Callable[[Path], None]) -> Path:
        binary = tools_dir / "bin" / f"{self.name}-{self.pin_hash()}"
        if binary.exists():
            return binary
        with install_lock(tools_dir):
            if not binary.exists():
                build(binary)
        return binary
