"""(g) logging in: Argon2 verification sets the rate, so its parameters travel with the result.
(i) asking for a password reset, for known and unknown addresses mixed; then a probe times
each kind alone, alternating on one connection: the two must take the same time (the account
lookup and the mail happen after the answer)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from bench.api_server import Route
from bench.data.users import EMAIL_PATTERN
from bench.databases import Databases
from bench.environment import BENCH_PASSWORD
from bench.scenarios.base import RunContext, Scenario, argon2_parameters
from bench.wrk import WrkPlan

PROBE_PAIRS = 300


async def login_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    return WrkPlan("login.lua", (str(ctx.users.emails_file), BENCH_PASSWORD))


async def end_bench_sessions(db: Databases) -> None:
    """Each login opened a session with a refresh token; the data set had none."""
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM auth_sessions WHERE user_id IN (SELECT id FROM users WHERE email LIKE $1)",
            EMAIL_PATTERN,
        )
        await conn.execute("DELETE FROM login_throttles WHERE key LIKE 'account:bench-u%'")


LOGIN = Scenario(
    key="g",
    title="log in (Argon2 verification)",
    route=Route("POST", "/api/auth/login"),
    wrk=login_plan,
    cleanup=end_bench_sessions,
    facts=argon2_parameters,
)


async def reset_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    """Known and unknown addresses mixed, so that the load (and the relay's work behind it)
    is the same for both kinds during the probe's comparison."""
    mixed = ctx.env.run_dir / "reset-emails.txt"
    known = ctx.users.emails_file.read_text().split()
    lines = [line for n, email in enumerate(known) for line in (email, _unknown(ctx, n))]
    mixed.write_text("".join(f"{line}\n" for line in lines))
    return WrkPlan("password_reset.lua", (str(mixed),))


def _unknown(ctx: RunContext, n: int) -> str:
    return f"nobody-{ctx.run_tag}-{n}@example.com"


async def reset_timing_probe(ctx: RunContext) -> dict[str, Any]:
    """What an attacker would measure: one connection, known and unknown addresses alternating,
    each request timed on its own; p50 and p90 per kind and their ratio."""
    known = ctx.users.emails_file.read_text().split()[:PROBE_PAIRS]
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    async with httpx.AsyncClient(base_url=ctx.env.base_url, timeout=30) as client:
        for n, email in enumerate(known):
            for kind, address in (("known", email), ("unknown", _unknown(ctx, n + 10**6))):
                started = time.perf_counter()
                response = await client.post("/api/auth/password-reset", json={"email": address})
                times[kind].append((time.perf_counter() - started) * 1000)
                if response.status_code != 202:
                    raise RuntimeError(f"password reset probe: {response.status_code}")
    figures = {
        kind: {
            "p50_ms": round(statistics.median(values), 2),
            "p90_ms": round(statistics.quantiles(values, n=10)[-1], 2),
        }
        for kind, values in times.items()
    }
    return {
        "timing_probe": {
            "pairs": len(known),
            **figures,
            "p50_ratio": round(figures["known"]["p50_ms"] / figures["unknown"]["p50_ms"], 3),
        }
    }


async def forget_reset_requests(db: Databases) -> None:
    """The reset links, their mails and the requests' rate-limit windows the run made."""
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.scope', 'system', true)")
        await conn.execute("DELETE FROM account_tokens WHERE purpose = 'password_reset'")
        await conn.execute(
            "DELETE FROM sagas WHERE kind IN ('request_password_reset', 'deliver_mail')"
        )
        await conn.execute("DELETE FROM rate_limits WHERE key LIKE 'password reset request:%'")


RESET = Scenario(
    key="i",
    title="password reset request, known and unknown addresses",
    route=Route("POST", "/api/auth/password-reset"),
    wrk=reset_plan,
    cleanup=forget_reset_requests,
    probe=reset_timing_probe,
)
