"""What a scenario is: a route, the data it needs, its wrk plan, its floor, its clean-up."""

from __future__ import annotations

import asyncio
import functools
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import argon2
import asyncpg
from sqlalchemy import TextClause

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
    # Loaded users number 0, 1, … (email order), logged in once per run when a scenario that
    # runs needs them; empty otherwise.
    learners: tuple[Caller, ...] = ()


@dataclass(frozen=True)
class Scenario:
    key: str  # the letter
    title: str
    # None: the endpoint is not designed yet, so there is nothing to look for in the OpenAPI.
    route: Route | None
    datasets: tuple[str, ...] = ("users",)
    # Builds wrk's plan (it may look up what the requests need first).
    wrk: Callable[[RunContext, Databases], Awaitable[WrkPlan]] | None = None
    # Builds the floor's operation (it may prepare what the operation needs first).
    floor: Callable[[RunContext, Databases], Awaitable[FloorOp]] | None = None
    # Removes what the scenario wrote, so that the next scenario and run see the data set.
    cleanup: Callable[[Databases], Awaitable[None]] | None = None
    # Facts the table and the JSON should carry next to the numbers (Argon2's parameters).
    facts: Callable[[], dict[str, Any]] = field(default=lambda: {})
    # For scenarios not written yet: who is building what they need.
    pending: str = ""
    # Its requests are made by learners (RunContext.learners) rather than the administrator.
    learners: bool = False
    # Connections for this scenario instead of the run's (--concurrency): a route a few people
    # use at once, whose latency means little at saturation.
    concurrency: int | None = None
    # Measured after the load, on an idle API: figures the table has no column for (the
    # password reset's timing probe); they go to the scenario's facts and the notes.
    probe: Callable[[RunContext], Awaitable[dict[str, Any]]] | None = None

    @property
    def implemented(self) -> bool:
        return self.wrk is not None

    @property
    def label(self) -> str:
        return f"({self.key}) {self.route or self.title}"


def asyncpg_sql(statement: TextClause | str, names: Sequence[str] = ()) -> str:
    """An application's `text()` statement in asyncpg's placeholders, `names` becoming $1, $2…
    (a string is one the application already runs on the driver, in those placeholders).

    Statements are taken from the application rather than copied where it writes them as SQL,
    so the floor keeps doing what the API does when they change."""
    sql = statement if isinstance(statement, str) else str(statement.text)
    for number, name in enumerate(names, start=1):
        sql = re.sub(rf"(?<![:\w]):{name}\b", f"${number}", sql)
    leftover = re.findall(r"(?<![:\w]):[A-Za-z_]\w*", sql)
    if leftover:
        raise RuntimeError(f"the statement has new parameters {leftover}; update the floor")
    return sql


@functools.cache
def principal_sql() -> str:
    """The statement that authenticates every API request."""
    return asyncpg_sql(PRINCIPAL_SQL)


async def authenticate(conn: asyncpg.pool.PoolConnectionProxy, caller: Caller) -> None:
    """What every API request does first, on the connection its request then goes on using."""
    if await conn.fetchrow(principal_sql(), caller.user_id, caller.session_id) is None:
        raise LookupError(f"the session of {caller.user_id} is not active")


# The saga's intent (leased to the request) and the audit entry's outbox row, as enqueue() and
# audit.record() add them, in the request's transaction.
INSERT_SAGAS_SQL = """
INSERT INTO sagas (id, kind, subject_id, payload, next_attempt_at)
VALUES ($1, $2, $3, $4::jsonb, now() + make_interval(secs => $5)),
       ($6, $7, NULL, $8::jsonb, now())
"""
# The saga runner's fast path, after the steps: in a transaction of its own, with
# `SET LOCAL synchronous_commit TO off` first.
COMPLETE_SAGA_SQL = """
UPDATE sagas SET status = 'completed', steps = $2::jsonb, finished_at = now(), last_error = NULL
WHERE id = $1 AND status = 'pending'
"""
DONE_STEP = {"runs": 1, "applied": 1, "done": True}


async def wait_for_relay(db: Databases, kinds: Sequence[str], seconds: float = 30.0) -> None:
    """The API's relay delivers audit entries and domain events shortly after each commit,
    and retries saga steps that failed: let it finish with these kinds of sagas, so that
    nothing lands after a clean-up."""
    for _ in range(round(seconds / 0.5)):
        if not await db.pool.fetchval(
            "SELECT count(*) FROM sagas WHERE kind = ANY($1::text[]) "
            "AND status IN ('pending', 'compensating')",
            list(kinds),
        ):
            return
        await asyncio.sleep(0.5)


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


def learner_plan(
    ctx: RunContext, name: str, method: str, requests: Iterable[tuple[int, str, str]]
) -> WrkPlan:
    """wrk's plan for requests made by the learners: (learner number, path, body or "") each,
    one picked at random per request (bench/lua/learner_requests.lua)."""
    if not ctx.learners:
        raise RuntimeError("no learners are logged in")
    return callers_plan(ctx, name, method, ctx.learners, requests)


def callers_plan(
    ctx: RunContext,
    name: str,
    method: str,
    callers: Sequence[Caller],
    requests: Iterable[tuple[int, str, str]],
) -> WrkPlan:
    """The same for requests made by other callers: (caller's index, path, body or "")."""
    tokens = ctx.env.run_dir / f"{name}-tokens.txt"
    tokens.write_text("".join(f"{c.token}\n" for c in callers))
    lines = ctx.env.run_dir / f"{name}-requests.tsv"
    lines.write_text("".join(f"{n + 1}\t{path}\t{body}\n" for n, path, body in requests))
    return WrkPlan("learner_requests.lua", (str(tokens), str(lines), method))
