"""Runs the selected scenarios against the started API: wrk, then the floor, then clean-up."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
import jwt

from bench import floor, wrk
from bench.api_server import ApiServer, Route
from bench.data import users as users_data
from bench.data.scales import Scale
from bench.data.users import UsersSample
from bench.databases import Databases, open_databases
from bench.environment import ADMIN_EMAIL, BENCH_PASSWORD, BenchEnv
from bench.results import ScenarioOutcome
from bench.sampling import OUTSIDE_CPU_LIMIT, Sampler, outside_cpu_percent, wait_until_idle
from bench.scenarios.base import Caller, RunContext, Scenario, wait_for_relay
from oneenglish.audit.models import COLLECTION as AUDIT_LOGS
from oneenglish.audit.schemas import DELIVER_AUDIT as DELIVER_AUDIT_KIND

DELIVER_AUDIT = DELIVER_AUDIT_KIND.name

# Learners the scenarios of learning and chat make their requests as: many, so that no row
# they lock (an enrollment) is one every request waits for.
LEARNERS = 32
LOGINS_AT_ONCE = 4


@dataclass(frozen=True)
class Load:
    concurrency: int
    seconds: float
    warmup: float
    quiet_wait: float = 0.0

    @property
    def wrk_threads(self) -> int:
        # More wrk threads than cores only adds context switches.
        return max(1, min(os.cpu_count() or 1, self.concurrency))


async def log_in(base_url: str, email: str, password: str) -> Caller:
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        response = await client.post("/api/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"login as {email} failed: {response.status_code} {response.text}")
    token = response.json()["access_token"]
    # Our own token from our own API: only its ids are needed, for the floor's auth query.
    claims = jwt.decode(token, options={"verify_signature": False})
    return Caller(token, uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))


async def declared_routes(base_url: str) -> set[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        response = await client.get("/openapi.json")
    response.raise_for_status()
    return {
        Route(method, path).shape
        for path, operations in response.json()["paths"].items()
        for method in operations
    }


def why_skipped(scenario: Scenario, routes: set[tuple[str, str]]) -> str:
    if scenario.route is None:
        return f"no endpoint defined yet ({scenario.pending})"
    present = scenario.route.shape in routes
    if not scenario.implemented:
        if present:
            return f"{scenario.route} exists now, but its scenario is not written yet"
        return f"{scenario.route} is not in the API's OpenAPI yet ({scenario.pending})"
    if not present:
        return f"{scenario.route} is missing from the API's OpenAPI"
    return ""


async def run_scenarios(
    env: BenchEnv,
    api: ApiServer,
    scale: Scale,
    users: UsersSample,
    scenarios: Sequence[Scenario],
    load: Load,
) -> list[ScenarioOutcome]:
    routes = await declared_routes(env.base_url)
    admin = await log_in(env.base_url, ADMIN_EMAIL, BENCH_PASSWORD)
    learners: tuple[Caller, ...] = ()
    if any(s.learners and not why_skipped(s, routes) for s in scenarios):
        learners = await log_in_learners(env.base_url, min(LEARNERS, users.count))
    ctx = RunContext(env, scale, admin, users, secrets.token_hex(3), learners)
    outcomes: list[ScenarioOutcome] = []
    # Past 64, floor workers queue for a connection, as API requests queue for theirs; the
    # bench PostgreSQL allows 200 connections in all (API pools and FerretDB's included).
    async with open_databases(env.settings(), pool_size=min(load.concurrency, 64)) as db:
        for scenario in scenarios:
            reason = why_skipped(scenario, routes)
            if reason:
                print(f"{scenario.label}: skipped: {reason}")
                outcomes.append(ScenarioOutcome(scenario.key, scenario.label, skipped=reason))
                continue
            outcome = await measure(scenario, ctx, db, api, load)
            if scenario.probe is not None:
                print(f"{scenario.label}: probe", flush=True)
                outcome.facts.update(await scenario.probe(ctx))
                if scenario.cleanup is not None:
                    await scenario.cleanup(db)
            outcomes.append(outcome)
        if learners:
            await end_sessions(db, learners)
    return outcomes


async def end_sessions(db: Databases, callers: Sequence[Caller]) -> None:
    """The data set had no sessions: delete these, with their logins' audit entries."""
    ids = [c.session_id for c in callers]
    keys = [str(i) for i in ids]
    await wait_for_relay(db, (DELIVER_AUDIT,))
    await db.mongo[AUDIT_LOGS].delete_many({"entity": "session", "entityId": {"$in": keys}})
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM sagas WHERE kind = $1 AND payload->>'entity' = 'session' "
            "AND payload->>'entityId' = ANY($2::text[])",
            DELIVER_AUDIT,
            keys,
        )
        await conn.execute("DELETE FROM auth_sessions WHERE id = ANY($1::uuid[])", ids)


async def log_in_learners(base_url: str, count: int) -> tuple[Caller, ...]:
    """Loaded users number 0..count-1, a few logins at a time (each is an Argon2 hash; the
    API answers 503 when its hashing pool is full)."""
    print(f"logging in {count} learners", flush=True)
    limit = asyncio.Semaphore(LOGINS_AT_ONCE)

    async def one(number: int) -> Caller:
        async with limit:
            for attempt in range(5):
                try:
                    return await log_in(base_url, users_data.email(number), BENCH_PASSWORD)
                except RuntimeError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(1.0 + attempt)
        raise AssertionError("unreachable")

    return tuple(await asyncio.gather(*(one(n) for n in range(count))))


async def measure(
    scenario: Scenario, ctx: RunContext, db: Databases, api: ApiServer, load: Load
) -> ScenarioOutcome:
    assert scenario.wrk is not None
    if scenario.concurrency is not None:
        load = dataclasses.replace(load, concurrency=scenario.concurrency)
    say = _progress(scenario)
    if scenario.cleanup:
        await scenario.cleanup(db)  # leftovers of an interrupted run
    plan = await scenario.wrk(ctx, db)
    target = wrk.WrkTarget(ctx.env.base_url, ctx.env.run_dir, load.concurrency, load.wrk_threads)
    bench_pids = [os.getpid(), *ctx.env.database_pids()]
    await until_quiet(bench_pids, load.quiet_wait, say)
    outcome = ScenarioOutcome(scenario.key, scenario.label, facts=scenario.facts())
    say(f"API: warm-up {load.warmup:.0f} s, then {load.seconds:.0f} s at {load.concurrency}")
    if load.warmup > 0:
        await wrk.run(plan, target, load.warmup)
        # The warm-up's last requests still run when wrk stops: not on the measurement's time
        # (the floor's warm-up ends with its last operation, too).
        await wait_until_idle([api.pid, *ctx.env.database_pids()])
    with Sampler(api.pid, bench_pids, servers=ctx.env.servers()) as sampled:
        outcome.api = await wrk.run(plan, target, load.seconds)
    outcome.server_cpu_percent = sampled.server_cpu_percent
    outcome.rss_peak_bytes, outcome.rss_processes = sampled.peak_rss_bytes, sampled.rss_processes
    outcome.rss_peak_process_bytes = sampled.peak_process_rss_bytes
    outcome.api_cpu_percent = sampled.api_cpu_percent
    outcome.outside_cpu_percent["api"] = sampled.outside_cpu_percent
    say(
        f"API: {outcome.api.requests_per_second:.1f} req/s, p50 {outcome.api.p50_ms:.1f} ms, "
        f"{outcome.api.error_count} errors"
    )
    # Requests in flight when wrk stopped still run; the floor must not share the CPU with
    # them, and the clean-up must come after their writes.
    await wait_until_idle([api.pid, *ctx.env.database_pids()])
    if scenario.cleanup:
        await scenario.cleanup(db)
    if scenario.floor is not None:
        op = await scenario.floor(ctx, db)
        await until_quiet(bench_pids, load.quiet_wait, say)
        say(f"floor: warm-up {load.warmup:.0f} s, then {load.seconds:.0f} s")
        if load.warmup > 0:
            await floor.drive(op, load.concurrency, load.warmup)
        with Sampler(api.pid, bench_pids) as sampled:
            outcome.floor = await floor.drive(op, load.concurrency, load.seconds)
        outcome.outside_cpu_percent["floor"] = sampled.outside_cpu_percent
        say(
            f"floor: {outcome.floor.operations_per_second:.1f} op/s, "
            f"p50 {outcome.floor.p50_ms:.1f} ms, {outcome.floor.errors} errors"
        )
        if scenario.cleanup:
            await scenario.cleanup(db)
    return outcome


async def until_quiet(
    bench_pids: Sequence[int], patience: float, say: Callable[[str], None]
) -> None:
    """Another test suite on the machine would distort the measurement: give it a chance to
    finish first (the measurement is flagged afterwards if it did not)."""
    waited = 0.0
    while waited < patience:
        busy = await outside_cpu_percent(bench_pids)
        if busy < OUTSIDE_CPU_LIMIT:
            return
        if waited == 0:
            say(
                f"other processes keep {busy:.0f} % of a core busy; waiting up to "
                f"{patience:.0f} s for a quieter machine"
            )
        waited += 2.0


def _progress(scenario: Scenario) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"{scenario.label}: {message}", flush=True)

    return say
