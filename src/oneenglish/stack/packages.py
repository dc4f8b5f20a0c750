"""Installing what the local stack needs from the machine's own package manager."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from oneenglish.stack.errors import StackError

INSTALL_LOCK = "/tmp/oneenglish-apt-install.lock"  # noqa: S108 (root only, a lock file)
LOCK_TIMEOUT_SECONDS = 600


def apt_install(package: str, what: str, otherwise: str) -> None:
    """Install a Debian package (root only); otherwise say exactly what to install.

    `otherwise` finishes the sentence for a machine where we cannot install it ("or set
    DATABASE_URL to a server")."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(
            f"{what} were not found. Install them (Debian/Ubuntu: sudo apt-get install "
            f"{package}) {otherwise}."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Two test processes (or a test and the stack) may install at once: ours take turns on a
    # file lock, and apt waits for a dpkg lock held by anyone else instead of failing at once.
    wait = ["-o", f"DPkg::Lock::Timeout={LOCK_TIMEOUT_SECONDS}"]
    with open(INSTALL_LOCK, "w") as lock, _services_not_started():
        fcntl.flock(lock, fcntl.LOCK_EX)
        for argv in (
            ["apt-get", *wait, "update", "-q"],
            ["apt-get", *wait, "install", "-y", "-q", "--no-install-recommends", package],
        ):
            result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
            if result.returncode != 0:
                raise StackError(
                    f"{what}: `{' '.join(argv)}` failed:\n{result.stdout[-2000:]}"
                    f"{result.stderr[-2000:]}"
                )


POLICY_RC = Path("/usr/sbin/policy-rc.d")


@contextlib.contextmanager
def _services_not_started() -> Iterator[None]:
    """A package installs a system service (nginx on every address's :80, redis-server); the
    stack runs its own instance on loopback instead. Debian's policy-rc.d answering 101 keeps
    the package's from starting; one already there (container images have it) is left as is."""
    if POLICY_RC.exists():
        yield
        return
    POLICY_RC.write_text(
        "#!/bin/sh\n# oneenglish stack: no service starts during apt-get\nexit 101\n"
    )
    POLICY_RC.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC.unlink(missing_ok=True)
