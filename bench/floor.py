"""The floor: a scenario's database operations issued directly, in a closed loop.

N async workers (N = wrk's connections) each run the operation again as soon as it returns, for
the same duration as wrk, after the same warm-up (the runner calls `drive` for each): the shape
of wrk's load without HTTP, JSON, validation or the framework. It runs in this one process (on
uvloop, like the API), so its CPU use is reported: a floor near 100 % of one core is limited by
its own client, not by the databases, and the API/floor ratio then understates the API's
overhead.
"""

from __future__ import annotations

import asyncio
import math
import random
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# One operation; each worker passes its own random generator.
FloorOp = Callable[[random.Random], Awaitable[None]]


@dataclass(frozen=True)
class FloorResult:
    operations: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    first_error: str
    cpu_percent: float  # this process's CPU time over wall time (100 = one full core)

    @property
    def operations_per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def drive(op: FloorOp, concurrency: int, seconds: float) -> FloorResult:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(number: int) -> None:
        rng = random.Random(number)
        while loop.time() < deadline:
            started = time.perf_counter()
            try:
                await op(rng)
            except Exception as exc:  # counted and shown, like wrk's errors
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
            else:
                latencies.append((time.perf_counter() - started) * 1000)

    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    latencies.sort()
    return FloorResult(
        operations=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        errors=len(errors),
        first_error=errors[0] if errors else "",
        cpu_percent=100 * cpu / elapsed if elapsed else 0.0,
    )


def _cpu_seconds() -> float:
    # Threads included: Argon2 runs in the default executor's threads.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
