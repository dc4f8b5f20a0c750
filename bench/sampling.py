"""What the machine did while a scenario ran: the API's peak memory and CPU, and the CPU used
by processes that are not part of the benchmark (another test suite on the same machine shows
up there, and makes the figures of that measurement unreliable).

Memory is the largest sum of resident memory over the API's process tree (the uvicorn
supervisor and its workers) at one instant, sampled in a thread; pages the processes share
count once per process, as `ps` shows them. CPU comes from the processes' own counters at the
start and the end, so it needs no sampling: a process tree's CPU time is its live members'
plus what its root has reaped (PostgreSQL backends that exit, wrk after each run).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType

import psutil

# Above this (% of one core), another workload shared the machine with a measurement.
OUTSIDE_CPU_LIMIT = 20.0


def tree_cpu_seconds(root_pid: int) -> float:
    try:
        root = psutil.Process(root_pid)
        members = [root, *root.children(recursive=True)]
        reaped = root.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    total = reaped.children_user + reaped.children_system
    for process in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def machine_busy_seconds() -> float:
    """CPU time spent running anything, over all cores (guest time is already in user time;
    steal time is the hypervisor's, not this machine's processes')."""
    times = psutil.cpu_times()
    busy = times.user + times.system
    for extra in ("nice", "irq", "softirq"):
        busy += getattr(times, extra, 0.0)
    return float(busy)


class Sampler:
    """Use as a context manager around one measurement."""

    def __init__(
        self,
        api_pid: int,
        bench_pids: Iterable[int],
        interval: float = 0.2,
        servers: Mapping[str, int] | None = None,
    ) -> None:
        self.api_pid = api_pid
        # The database servers by name ("postgresql": its postmaster, whose tree holds the
        # backends), whose CPU is reported each: what saturates, when the API does not.
        self.servers = dict(servers or {})
        self.server_cpu_percent: dict[str, float] = {}
        self._server_cpu: dict[str, float] = {}
        # Roots of everything the benchmark runs: this process (with the API and wrk under
        # it), the bench PostgreSQL and FerretDB.
        self.bench_pids = list(bench_pids)
        self.interval = interval
        self.peak_rss_bytes = 0
        self.rss_processes = 0
        self.peak_process_rss_bytes = 0  # the largest single process (a worker)
        self.api_cpu_percent = 0.0
        self.outside_cpu_percent = 0.0  # 100 = one core busy with work that is not ours
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_memory, name="sampler", daemon=True)
        self._started = 0.0
        self._api_cpu = 0.0
        self._bench_cpu = 0.0
        self._machine = 0.0

    def __enter__(self) -> Sampler:
        self._started = time.monotonic()
        self._api_cpu = tree_cpu_seconds(self.api_pid)
        self._bench_cpu = sum(tree_cpu_seconds(p) for p in self.bench_pids)
        self._machine = machine_busy_seconds()
        self._server_cpu = {name: tree_cpu_seconds(pid) for name, pid in self.servers.items()}
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        elapsed = time.monotonic() - self._started
        if elapsed <= 0:
            return
        api = tree_cpu_seconds(self.api_pid) - self._api_cpu
        bench = sum(tree_cpu_seconds(p) for p in self.bench_pids) - self._bench_cpu
        machine = machine_busy_seconds() - self._machine
        self.api_cpu_percent = 100 * api / elapsed
        self.server_cpu_percent = {
            name: 100 * (tree_cpu_seconds(pid) - self._server_cpu[name]) / elapsed
            for name, pid in self.servers.items()
        }
        self.outside_cpu_percent = max(0.0, 100 * (machine - bench) / elapsed)

    def _sample_memory(self) -> None:
        while True:
            self._measure_rss()
            if self._stop.wait(self.interval):
                self._measure_rss()
                return

    def _measure_rss(self) -> None:
        try:
            root = psutil.Process(self.api_pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = 0
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                rss = process.memory_info().rss
                total += rss
                self.peak_process_rss_bytes = max(self.peak_process_rss_bytes, rss)
        if total > self.peak_rss_bytes:
            self.peak_rss_bytes = total
            self.rss_processes = len(tree)


async def wait_until_idle(
    pids: Iterable[int], *, below_percent: float = 5.0, timeout: float = 60.0
) -> float:
    """Wait for process trees to stop working (requests still in flight when wrk stopped);
    returns the seconds waited. Give the databases' processes too: a request waiting on
    FerretDB costs the API almost no CPU."""
    roots = list(pids)
    started = time.monotonic()
    previous = sum(tree_cpu_seconds(p) for p in roots)
    while time.monotonic() - started < timeout:
        await asyncio.sleep(0.5)
        current = sum(tree_cpu_seconds(p) for p in roots)
        if 100 * (current - previous) / 0.5 < below_percent:
            break
        previous = current
    return time.monotonic() - started


async def outside_cpu_percent(bench_pids: Iterable[int], seconds: float = 2.0) -> float:
    """CPU used by processes outside the benchmark over a short window; 100 = one core."""
    pids = list(bench_pids)
    started = time.monotonic()
    bench = sum(tree_cpu_seconds(p) for p in pids)
    machine = machine_busy_seconds()
    await asyncio.sleep(seconds)
    bench = sum(tree_cpu_seconds(p) for p in pids) - bench
    machine = machine_busy_seconds() - machine
    return max(0.0, 100 * (machine - bench) / (time.monotonic() - started))
