"""wrk, the compiled HTTP load generator: installed from Debian if missing, run with a scenario's
Lua script, its results read from the JSON line our `done()` hook prints."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "BENCH_JSON "
# Argon2 scenarios queue behind the CPU: a slow answer is a result, not a failure.
TIMEOUT_SECONDS = 30


class WrkFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkPlan:
    """What a scenario asks wrk to do: its Lua script (in bench/lua) and the script's args."""

    script: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class WrkTarget:
    """Where and how hard: the same for every scenario of a run."""

    base_url: str
    run_dir: Path
    connections: int
    threads: int


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    first_failure: str

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """Socket errors, timeouts and every answer that is not 2xx."""
        e = self.errors
        return e["connect"] + e["read"] + e["write"] + e["timeout"] + e["non_2xx"]


def ensure_installed() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkFailed("wrk is not installed; install it with `sudo apt-get install -y wrk`")
    print("wrk is missing; installing it from Debian's packages (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkFailed("apt-get did not install wrk")
    return found


def version() -> str:
    # wrk has no --version: its usage text starts with the version and exits 1.
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    lines = (result.stdout or result.stderr).splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else "wrk (version unknown)"


def compose_script(plan: WrkPlan, run_dir: Path) -> Path:
    """The scenario's script with the reporting hooks appended, as one file wrk can load."""
    body = (LUA_DIR / plan.script).read_text() + "\n" + (LUA_DIR / "report.lua").read_text()
    path = run_dir / f"wrk-{Path(plan.script).stem}.lua"
    path.write_text(body)
    return path


async def run(plan: WrkPlan, target: WrkTarget, seconds: float) -> WrkResult:
    script = compose_script(plan, target.run_dir)
    argv = [
        "wrk",
        f"-t{max(1, min(target.threads, target.connections))}",
        f"-c{target.connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        "-s",
        str(script),
        target.base_url,
        "--",
        *plan.args,
    ]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    text = out.decode(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith(MARKER)), None)
    if process.returncode != 0 or line is None:
        raise WrkFailed(
            f"wrk failed ({process.returncode}) on {plan.script}:\n{text[-2000:]}"
            f"{err.decode(errors='replace')[-2000:]}"
        )
    data = json.loads(line[len(MARKER) :])
    latency = data["latency_us"]
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=data["errors"],
        first_failure=data["first_failure"],
    )
