"""What a scenario is: a route, the data it needs, its wrk plan, its floor, its clean-up."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import argon2

from bench.api_server import Route
from bench.data.scales import Scale
from bench.data.users import UsersSample
from bench.databases import Databases
from bench.environment import BENCH_PASSWORD, BenchEnv
from bench.floor import FloorOp
from bench.wrk import WrkPlan
from oneenglish.auth.repository import PRINCIPAL_SQL


@dataclass(frozen=True)
class Caller:
    """A logged-in account: its bearer token and the ids the API reads from it."""

    token: str
    user_id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True)
class RunContext:
    env: BenchEnv
    scale: Scale
    admin: Caller
    users: UsersSample
    run_tag: str  # short, unique to this run: keeps generated names apart across runs


@dataclass(frozen=True)
class Scenario:
    key: str  # the letter
    title: str
    # None: the endpoint is not designed yet, so there is nothing to look for in the OpenAPI.
    route: Route | None
    datasets: tuple[str, ...] = ("users",)
    wrk: Callable[[RunContext], WrkPlan] | None = None
    # Builds the floor's operation (it may prepare what the operation needs first).
    floor: Callable[[RunContext, Databases], Awaitable[FloorOp]] | None = None
    # Removes what the scenario wrote, so that the next scenario and run see the data set.
    cleanup: Callable[[Databases], Awaitable[None]] | None = None
    # Facts the table and the JSON should carry next to the numbers (Argon2's parameters).
    facts: Callable[[], dict[str, Any]] = field(default=lambda: {})
    # For scenarios not written yet: who is building what they need.
    pending: str = ""

    @property
    def implemented(self) -> bool:
        return self.wrk is not None

    @property
    def label(self) -> str:
        return f"({self.key}) {self.route or self.title}"


def principal_sql() -> str:
    """The statement that authenticates every API request, in asyncpg's placeholders.

    Taken from the application rather than copied, so the floor keeps doing what the API does
    when that query changes."""
    sql = str(PRINCIPAL_SQL.text)
    for number, name in enumerate(("user_id", "session_id"), start=1):
        sql = sql.replace(f":{name}", f"${number}")
    leftover = re.findall(r"(?<![:\w]):[A-Za-z_]\w*", sql)
    if leftover:
        raise RuntimeError(f"the principal query has new parameters {leftover}; update the floor")
    return sql


def argon2_parameters() -> dict[str, Any]:
    """What the application hashes with (argon2-cffi's defaults), and how long one hash takes
    on this machine (the median of three, the API idle)."""
    hasher = argon2.PasswordHasher()
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        hasher.hash(BENCH_PASSWORD)
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "argon2": {
            "type": f"Argon2{hasher.type.name.lower()}",
            "time_cost": hasher.time_cost,
            "memory_cost_kib": hasher.memory_cost,
            "parallelism": hasher.parallelism,
            "hash_len": hasher.hash_len,
            "salt_len": hasher.salt_len,
            "one_hash_ms": round(sorted(samples)[1], 1),
        }
    }
