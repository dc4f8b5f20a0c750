"""`python -m bench.realtime` (`make bench-ws`): WebSockets under load, on the bench stack.

CONNECTIONS sockets (default 1,000) to the API's two worker processes (the kernel spreads the
connections between them, so about half of all deliveries cross from one process to the other
through LISTEN/NOTIFY), held by one load client built on the `websockets` library, loopback
only, bounded in count and time. Half the sockets belong to senders, half to their partners
(two loaded learners of one course, so they may message each other); one message per second
per ten users is sent over the sockets (`message.send`), each carrying its send time. Printed:
delivery latency from send to receipt by the partner (p50, p90, p99, max), messages sent and
received, the API's CPU over the messaging phase, and its memory per idle connection (the
API's resident memory with the sockets open and idle, less before, over the count).

Sessions are made directly in PostgreSQL and their access tokens signed with the run's
SECRET_KEY: a thousand Argon2 logins would only measure Argon2 ((g) does).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

import orjson
import psutil
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from bench.api_server import ApiServer
from bench.data import ensure_loaded
from bench.data.scales import SCALES
from bench.databases import open_databases
from bench.environment import BenchEnv
from oneenglish.core.security import issue_access_token

PROTOCOL = "oneenglish.v1"
OPEN_AT_ONCE = 50  # handshakes in flight while connecting


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    errors: int = 0
    first_error: dict[str, object] | None = None


async def _pairs(env: BenchEnv, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """`count` pairs of loaded learners who share a course, each learner in one pair."""
    async with open_databases(env.settings(), pool_size=2) as db:
        rows = await db.pool.fetch(
            "SELECT course_id, array_agg(user_id ORDER BY user_id) AS learners "
            "FROM enrollments GROUP BY course_id"
        )
    used: set[uuid.UUID] = set()
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = []
    for row in rows:
        free = [u for u in row["learners"] if u not in used]
        for a, b in zip(free[::2], free[1::2], strict=False):
            pairs.append((a, b))
            used.update((a, b))
            if len(pairs) == count:
                return pairs
    raise RuntimeError(f"only {len(pairs)} pairs of classmates in the data set")


async def _tokens(env: BenchEnv, users: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    settings = env.settings()
    sessions = {u: uuid.uuid4() for u in users}
    async with (
        open_databases(settings, pool_size=2) as db,
        db.pool.acquire() as conn,
        conn.transaction(),
    ):
        await conn.execute("SELECT set_config('app.scope', 'system', true)")
        await conn.executemany(
            "INSERT INTO auth_sessions (id, user_id, user_agent) VALUES ($1, $2, 'bench-ws')",
            [(s, u) for u, s in sessions.items()],
        )
    return {u: issue_access_token(settings, u, s)[0] for u, s in sessions.items()}


async def _forget_messages(env: BenchEnv, users: list[uuid.UUID]) -> None:
    """What a run leaves (its messages, their notifications and events), so that every run
    starts from the same data: FerretDB counts a user's unread notifications in time that
    grows with their number, which would make each run slower than the last."""
    ids = [str(u) for u in users]
    async with (
        open_databases(env.settings(), pool_size=2) as db,
        db.pool.acquire() as conn,
        conn.transaction(),
    ):
        await db.mongo.chat_messages.delete_many({"senderId": {"$in": ids}})
        await db.mongo.notifications.delete_many({"userId": {"$in": ids}, "type": "direct_message"})
        await conn.execute("SELECT set_config('app.scope', 'system', true)")
        await conn.execute("DELETE FROM realtime_events WHERE user_id = ANY($1)", users)


async def _forget_sessions(env: BenchEnv) -> None:
    async with (
        open_databases(env.settings(), pool_size=2) as db,
        db.pool.acquire() as conn,
        conn.transaction(),
    ):
        await conn.execute("SELECT set_config('app.scope', 'system', true)")
        await conn.execute("DELETE FROM auth_sessions WHERE user_agent = 'bench-ws'")


def _api_tree(api: ApiServer) -> list[psutil.Process]:
    root = psutil.Process(api.pid)
    return [root, *root.children(recursive=True)]


def _rss(api: ApiServer) -> int:
    return sum(p.memory_info().rss for p in _api_tree(api))


def _cpu_seconds(api: ApiServer) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in _api_tree(api))


async def _open(url: str, token: str) -> ClientConnection:
    ws = await connect(url, subprotocols=[PROTOCOL, f"bearer.{token}"], open_timeout=60)  # type: ignore[list-item]
    ready = orjson.loads(await ws.recv())
    if ready["type"] != "ready":
        raise RuntimeError(f"unexpected first frame {ready}")
    return ws


async def _listen(ws: ClientConnection, tally: Tally, until: float, *, partner: bool) -> None:
    """Read a socket until the run ends: a partner times the messages it receives; a sender
    gets its acks and its own messages back. Both count error frames."""
    while time.monotonic() < until + 5:
        try:
            raw = await asyncio.wait_for(ws.recv(), max(0.1, until + 5 - time.monotonic()))
        except TimeoutError:
            return
        frame = orjson.loads(raw)
        if partner and frame["type"] == "message.created":
            sent_at = orjson.loads(frame["data"]["message"])["t"]
            tally.latencies_ms.append((time.time() - sent_at) * 1000)
        elif frame["type"] == "error":
            tally.errors += 1
            tally.first_error = tally.first_error or frame


async def _send(
    ws: ClientConnection, to: uuid.UUID, interval: float, until: float, tally: Tally
) -> None:
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < until:
        body = {
            "type": "message.send",
            "ref": uuid.uuid4().hex,
            "to": str(to),
            "message": {"message": orjson.dumps({"t": time.time()}).decode()},
        }
        await ws.send(orjson.dumps(body).decode())
        tally.sent += 1
        await asyncio.sleep(interval)


async def measure(
    env: BenchEnv, api: ApiServer, connections: int, seconds: float, rate: float | None
) -> None:
    pairs = await _pairs(env, connections // 2)
    users = [u for pair in pairs for u in pair]
    await _forget_messages(env, users)  # a run that was interrupted
    tokens = await _tokens(env, users)
    url = env.base_url.replace("http://", "ws://") + "/api/ws"
    before = _rss(api)
    sockets: dict[uuid.UUID, ClientConnection] = {}
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one(user: uuid.UUID) -> None:
        async with gate:
            sockets[user] = await _open(url, tokens[user])

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in users))
    opened_in = time.perf_counter() - started
    await asyncio.sleep(5)  # idle: what the sockets cost at rest
    idle = _rss(api)
    # One message per second per ten users (each sender, half the users, every 5 s), or
    # `rate` messages per second in all.
    interval = len(pairs) / (rate or len(users) / 10)
    tally = Tally()
    cpu_before, wall_before = _cpu_seconds(api), time.perf_counter()
    until = time.monotonic() + seconds
    # Partners only receive (each gets its sender's messages); senders discard their echoes.
    await asyncio.gather(
        *(_send(sockets[a], b, interval, until, tally) for a, b in pairs),
        *(_listen(sockets[b], tally, until, partner=True) for _, b in pairs),
        *(_listen(sockets[a], tally, until, partner=False) for a, _ in pairs),
    )
    cpu = (_cpu_seconds(api) - cpu_before) / (time.perf_counter() - wall_before) * 100
    await asyncio.gather(*(ws.close() for ws in sockets.values()))
    await _forget_messages(env, users)
    lat = sorted(tally.latencies_ms)
    print(
        f"\nbench realtime ({'redis' if env.redis else 'postgresql'} fan-out): {len(users)} "
        f"sockets over {env.workers} API processes, opened in "
        f"{opened_in:.1f} s; {tally.sent} messages in {seconds:.0f} s "
        f"({tally.sent / seconds:.1f}/s), {len(lat)} delivered, {tally.errors} error frames"
    )
    if tally.first_error:
        print(f"first error frame: {tally.first_error}")
    if lat:
        q = statistics.quantiles(lat, n=100)
        print(
            f"delivery latency (send to receipt): p50 {statistics.median(lat):.1f} ms, "
            f"p90 {q[89]:.1f} ms, p99 {q[98]:.1f} ms, max {lat[-1]:.1f} ms"
        )
    print(
        f"API CPU during messaging: {cpu:.0f} % (100 = one core); memory per idle socket: "
        f"{(idle - before) / len(users) / 1024:.1f} KiB (RSS {before / 2**20:.0f} -> "
        f"{idle / 2**20:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--rate", type=float, default=None, help="messages/s in all (default: connections / 10)"
    )
    parser.add_argument(
        "--fanout",
        choices=("postgresql", "redis"),
        default="postgresql",
        help="across the two processes: LISTEN/NOTIFY (default) or the stack's Redis",
    )
    parser.add_argument("--keep-stack", action="store_true")
    args = parser.parse_args()
    env = BenchEnv(workers=2, redis=args.fanout == "redis")
    api = ApiServer(env)
    try:
        env.provision()
        env.set_row_security(False)
        try:
            uvloop.run(_load(env))
        finally:
            env.set_row_security(True)
        api.start()
        uvloop.run(measure(env, api, args.connections, args.seconds, args.rate))
        uvloop.run(_forget_sessions(env))
    finally:
        api.stop()
        if not args.keep_stack:
            env.stack_down()


async def _load(env: BenchEnv) -> None:
    async with open_databases(env.settings(), pool_size=4) as db:
        await ensure_loaded(db, ["users", "enrollments"], SCALES["small"])


if __name__ == "__main__":
    main()
