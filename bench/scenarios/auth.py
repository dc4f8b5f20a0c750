"""(g) logging in: Argon2 verification sets the rate, so its parameters travel with the result."""

from __future__ import annotations

from bench.api_server import Route
from bench.data.users import EMAIL_PATTERN
from bench.databases import Databases
from bench.environment import BENCH_PASSWORD
from bench.scenarios.base import RunContext, Scenario, argon2_parameters
from bench.wrk import WrkPlan


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
