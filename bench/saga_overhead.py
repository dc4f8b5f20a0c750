"""What the saga log costs per cross-database operation.

The same work, a user row in PostgreSQL and its two documents in MongoDB, done twice:
  plain:  INSERT + COMMIT, then both MongoDB upserts (the seed's approach, not crash-safe)
  saga:   INSERT + intent + COMMIT, then the saga runner (row lock, both upserts, status update)
Run against the configured databases (the local stack by default: `make stack-up`). It creates
users named bench-saga-* and deletes them afterwards. Prints latency and throughput per mode and
the saga/plain ratio; Argon2 is left out (a fixed hash) so that the databases dominate.

    .venv/bin/python bench/saga_overhead.py [--operations 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from sqlalchemy import text

from oneenglish.profiles import service as profiles
from oneenglish.resources import Resources, open_resources
from oneenglish.sagas.log import enqueue
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings
from oneenglish.users import repository as users_repository
from oneenglish.workflows.register_user import KIND, NewAccount

FIXED_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNo"


async def plain(resources: Resources, n: int) -> None:
    user_id = uuid.uuid4()
    async with resources.sessionmaker() as db:
        await users_repository.insert(
            db,
            id=user_id,
            email=f"bench-saga-{user_id}@example.com",
            username=f"bs{user_id.hex[:20]}",
            password_hash=FIXED_HASH,
        )
        await db.commit()
    uid = str(user_id)
    await asyncio.gather(
        profiles.create_default_profile(resources.mongo_db, uid),
        user_settings.create_default_settings(resources.mongo_db, uid, {"language": "en"}),
    )


async def saga(resources: Resources, n: int) -> None:
    user_id = uuid.uuid4()
    async with resources.sessionmaker() as db:
        await users_repository.insert(
            db,
            id=user_id,
            email=f"bench-saga-{user_id}@example.com",
            username=f"bs{user_id.hex[:20]}",
            password_hash=FIXED_HASH,
        )
        pending = enqueue(
            db,
            KIND,
            NewAccount(user_id=user_id, default_settings={"language": "en"}),
            subject_id=user_id,
            lease_seconds=30,
        )
        await db.commit()
    await resources.runner.run_now(pending)


async def measure(resources: Resources, fn, operations: int, concurrency: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    counter = iter(range(operations))

    async def worker() -> None:
        for n in counter:
            started = time.perf_counter()
            await fn(resources, n)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "ops_per_s": operations / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


async def cleanup(resources: Resources) -> None:
    async with resources.sessionmaker() as db:
        ids = list(
            await db.scalars(text("SELECT id::text FROM users WHERE email LIKE 'bench-saga-%'"))
        )
        await db.execute(text("DELETE FROM sagas WHERE subject_id::text = ANY(:ids)"), {"ids": ids})
        await db.execute(text("DELETE FROM users WHERE email LIKE 'bench-saga-%'"))
        await db.commit()
    await asyncio.gather(
        resources.mongo_db.user_profiles.delete_many({"_id": {"$in": ids}}),
        resources.mongo_db.user_settings.delete_many({"_id": {"$in": ids}}),
    )


async def main(operations: int, concurrency: int) -> None:
    async with open_resources(Settings()) as resources:
        try:
            await measure(resources, plain, 50, concurrency)  # warm-up
            await measure(resources, saga, 50, concurrency)
            results: dict[str, dict[str, list[float]]] = {}
            # Alternate the modes so drift in the machine's load hits both.
            for mode, fn in (("plain", plain), ("saga", saga), ("plain", plain), ("saga", saga)):
                result = await measure(resources, fn, operations // 2, concurrency)
                for key, value in result.items():
                    results.setdefault(mode, {}).setdefault(key, []).append(value)
        finally:
            await cleanup(resources)
    print(f"{operations} operations per mode, concurrency {concurrency}")
    print(f"{'mode':<6} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    summary = {m: {k: statistics.mean(v) for k, v in r.items()} for m, r in results.items()}
    for mode, r in summary.items():
        print(f"{mode:<6} {r['ops_per_s']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}")
    print(
        "saga/plain: throughput "
        f"{summary['saga']['ops_per_s'] / summary['plain']['ops_per_s']:.2f}, p50 latency "
        f"{summary['saga']['p50_ms'] / summary['plain']['p50_ms']:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--operations", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.operations, args.concurrency))
