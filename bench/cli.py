"""`python -m bench` (what `make bench` runs): provision, load, serve, measure, report.

python -m bench [--scale small|large] [--scenarios a,b,g] [--concurrency 32]
                [--duration 20] [--warmup 5] [--quiet-wait 30] [--keep-stack]
python -m bench --compare     # p50 at large vs small scale, from bench/results/
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import psutil
import uvloop

from bench import results, wrk
from bench.api_server import ApiFailed, ApiServer
from bench.data import LoadOutcome, ensure_loaded
from bench.data import users as users_data
from bench.data.scales import SCALES, Scale
from bench.data.users import UsersSample
from bench.databases import open_databases
from bench.environment import MONGODB_PORT, POSTGRES_PORT, ROOT, BenchEnv, CommandFailed
from bench.runner import Load, run_scenarios
from bench.sampling import OUTSIDE_CPU_LIMIT
from bench.scenarios import SCALE_SENSITIVE, SCENARIOS
from bench.scenarios.base import Scenario
from bench.wrk import WrkFailed

# Fewer completed requests per connection than this, and a measurement says little.
FEW_PER_CONNECTION = 5

FERRETDB_NOTE = (
    "MongoDB here is FerretDB 1.24 (PostgreSQL backend), whose own indexes serve no query; "
    "`oneenglish migrate` gives its tables GIN indexes on the indexed fields (README, "
    "'Making FerretDB use indexes'), so equality filters use an index, sorts are done in memory."
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the API against the same database work done directly (the "
        "floor). See bench/README.md.",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="letters, comma-separated (default: all; those not built yet are skipped)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections / workers")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before each one")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each measurement, wait up to this many seconds while other processes "
        f"keep more than {OUTSIDE_CPU_LIMIT:.0f} %% of a core busy (0: do not wait)",
    )
    parser.add_argument(
        "--keep-stack", action="store_true", help="leave the bench databases running"
    )
    parser.add_argument(
        "--db-security",
        choices=("on", "off", "both"),
        default="on",
        help="TLS to both databases and Row Level Security: on (the default, as deployed), off "
        "(to measure their cost), or both, one pass after the other, with the ratio",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="only print p50 at large vs small scale from the newest results of each",
    )
    args = parser.parse_args(argv)
    keys = [k.strip().lower() for k in args.scenarios.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {','.join(SCENARIOS)}")
    # Always in the issue's order: (g)'s clean-up ends every loaded account's sessions, the
    # learners' of (c)–(f) included, so it must come after them.
    keys = [k for k in SCENARIOS if k in keys]
    if args.concurrency < 1 or args.duration < 1 or args.warmup < 0:
        parser.error("--concurrency and --duration must be positive, --warmup not negative")
    args.scenario_keys = keys
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.compare:
        comparison = results.compare({k: SCENARIOS[k].label for k in SCALE_SENSITIVE})
        print(comparison.text if comparison else "--compare needs results at both scales.")
        return
    try:
        sys.exit(run(args))
    except (CommandFailed, ApiFailed, WrkFailed) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)


def run(args: argparse.Namespace) -> int:
    modes = {"on": (True,), "off": (False,), "both": (True, False)}[args.db_security]
    by_mode: dict[bool, list[results.ScenarioOutcome]] = {}
    for secure in modes:
        if len(modes) > 1:
            print(f"\nbench: pass with database security {'on' if secure else 'off'}", flush=True)
        by_mode[secure] = run_pass(args, BenchEnv(db_security=secure))
    if len(modes) > 1:
        print()
        print(results.security_cost(by_mode[True], by_mode[False]))
    return 0


def run_pass(args: argparse.Namespace, env: BenchEnv) -> list[results.ScenarioOutcome]:
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    scale = SCALES[args.scale]
    scenarios = [SCENARIOS[k] for k in args.scenario_keys]
    load = Load(args.concurrency, args.duration, args.warmup, args.quiet_wait)
    load_average = [round(x, 2) for x in os.getloadavg()]
    wrk.ensure_installed()
    print(
        f"bench: scale {scale.name} {scale.summary()}, scenarios {','.join(args.scenario_keys)}, "
        f"concurrency {load.concurrency}, {load.seconds:.0f} s each after {load.warmup:.0f} s "
        f"of warm-up, API with {env.workers} workers on :{env.base_url.rsplit(':', 1)[1]}",
        flush=True,
    )
    api = ApiServer(env)
    try:
        env.provision()
        # The loaders bulk-copy, which PostgreSQL refuses under Row Level Security.
        env.set_row_security(False)
        try:
            loaded, users, load_seconds = uvloop.run(_load(env, scale, scenarios))
        finally:
            env.set_row_security(env.db_security)
        if any(outcome.loaded for outcome in loaded):
            # Loading drops and re-creates the collections only a data set fills; migrating
            # again gives their new backing tables the local FerretDB's indexes (idempotent).
            env.oneenglish("migrate")
        for outcome in loaded:
            state = f"loaded in {outcome.seconds:.1f} s" if outcome.loaded else "already loaded"
            print(f"data set {outcome.name}: {outcome.rows} rows, {state}", flush=True)
        api.start()
        outcomes = uvloop.run(run_scenarios(env, api, scale, users, scenarios, load))
    finally:
        api.stop()
        if not env.db_security:
            env.set_row_security(True)
        # The other pass starts the stack with the other TLS setting.
        if args.keep_stack and args.db_security != "both":
            print(
                f"bench stack left running (PostgreSQL :{POSTGRES_PORT}, "
                f"FerretDB :{MONGODB_PORT}); `make bench` reuses it"
            )
        else:
            env.stack_down()
    report = _report(scale, load, env, started_at, loaded, load_seconds, outcomes)
    report["db_security"] = "on" if env.db_security else "off (no TLS, no Row Level Security)"
    report["machine"]["load_average_at_start"] = load_average
    report["run_seconds"] = round(time.perf_counter() - started, 1)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    path = results.write(report, scale.name, stamp)
    comparison = results.compare({k: SCENARIOS[k].label for k in SCALE_SENSITIVE})
    if comparison:
        report["large_over_small_p50"] = comparison.ratios
        results.write(report, scale.name, stamp)
    logged_errors = api.logged_errors()
    print()
    print(_title(report))
    print(results.table(outcomes))
    for line in _notes(outcomes, load):
        print(line)
    if logged_errors:
        print(f"the API logged {logged_errors} errors: {api.log_path.relative_to(ROOT)}")
    if comparison:
        print()
        print(comparison.text)
    print(f"\nresults: {path.relative_to(ROOT)} (run took {report['run_seconds']:.0f} s)")
    return outcomes


async def _load(
    env: BenchEnv, scale: Scale, scenarios: list[Scenario]
) -> tuple[list[LoadOutcome], UsersSample, float]:
    needed = sorted({d for s in scenarios if s.implemented for d in s.datasets} | {"users"})
    started = time.perf_counter()
    async with open_databases(env.settings(), pool_size=4) as db:
        loaded = await ensure_loaded(db, needed, scale)
        users = await users_data.sample(db, env.run_dir)
    return loaded, users, time.perf_counter() - started


def _report(
    scale: Scale,
    load: Load,
    env: BenchEnv,
    started_at: datetime,
    loaded: list[LoadOutcome],
    load_seconds: float,
    outcomes: list[results.ScenarioOutcome],
) -> dict[str, Any]:
    return {
        "started_at": started_at.isoformat(),
        "scale": scale.name,
        "data": scale.summary(),
        "data_sets": [o.__dict__ for o in loaded],
        "load_seconds": round(load_seconds, 1),
        "settings": {
            "concurrency": load.concurrency,
            "duration_s": load.seconds,
            "warmup_s": load.warmup,
            "quiet_wait_s": load.quiet_wait,
            "wrk_threads": load.wrk_threads,
            "api_workers": env.workers,
        },
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
            "python": platform.python_version(),
            "wrk": wrk.version(),
            "mongodb_server": f"FerretDB {_ferretdb_version()} (PostgreSQL backend)",
        },
        "git_commit": _git_commit(),
        "note": FERRETDB_NOTE,
        "scenarios": [o.to_json() for o in outcomes],
    }


def _title(report: dict[str, Any]) -> str:
    s = report["settings"]
    return (
        f"scale {report['scale']} ({report['data']['users']:,} users), {s['concurrency']} "
        f"connections, {s['duration_s']:.0f} s per measurement, {s['api_workers']} API workers, "
        f"{report['machine']['cores']} cores; data load {report['load_seconds']:.1f} s; "
        f"database security {report.get('db_security', 'on')}"
    )


def _reset_timing(outcomes: list[results.ScenarioOutcome]) -> list[str]:
    """(i)'s probe: a reset request must not say, by its time, whether an address exists."""
    notes = []
    for o in outcomes:
        probe = o.facts.get("timing_probe")
        if probe:
            known, unknown = probe["known"], probe["unknown"]
            notes.append(
                f"note: {o.label} probe, {probe['pairs']} known/unknown pairs alternating on one "
                f"connection: p50 {known['p50_ms']:.2f} / {unknown['p50_ms']:.2f} ms "
                f"({probe['p50_ratio']:.2f}), p90 {known['p90_ms']:.2f} / "
                f"{unknown['p90_ms']:.2f} ms"
            )
    return notes


def _notes(outcomes: list[results.ScenarioOutcome], load: Load) -> list[str]:
    notes = [f"note: {FERRETDB_NOTE}", *_reset_timing(outcomes)]
    for o in outcomes:
        # wrk drops the requests in flight when it stops, the floor waits for its operations:
        # with only a few requests per connection, the edges of the window skew both.
        counts = {"API": o.api.requests if o.api else None}
        if o.floor is not None:
            counts["floor"] = o.floor.operations
        for side, count in counts.items():
            connections = o.facts.get("connections", load.concurrency)
            if count is not None and count < FEW_PER_CONNECTION * connections:
                notes.append(
                    f"warning: {o.label}'s {side} measurement completed only {count} requests "
                    f"over {connections} connections: too few for its latency; measure "
                    "longer (--duration)"
                )
        if "connections" in o.facts:
            notes.append(
                f"note: {o.label} ran at {o.facts['connections']} connections, not "
                f"{load.concurrency}: {o.facts['why_connections']}"
            )
        a2 = o.facts.get("argon2")
        if a2:
            notes.append(
                f"note: {o.label} is bound by Argon2: {a2['type']} t={a2['time_cost']}, "
                f"m={a2['memory_cost_kib'] // 1024} MiB, p={a2['parallelism']} (argon2-cffi "
                f"defaults); one hash took {a2['one_hash_ms']} ms here just before the measurement"
            )
        # Argon2-bound floors are meant to use the CPU; the others should be waiting on I/O.
        if o.floor is not None and o.floor.cpu_percent > 90 and not a2:
            notes.append(
                f"note: {o.label}'s floor used {o.floor.cpu_percent:.0f} % CPU in one process: "
                "it may be limited by its own client, so the API/floor ratio understates the "
                "API's overhead"
            )
        for phase, percent in o.outside_cpu_percent.items():
            if percent > OUTSIDE_CPU_LIMIT:
                notes.append(
                    f"warning: during {o.label}'s {phase} measurement, processes outside the "
                    f"benchmark used {percent:.0f} % of a core: its figures are disturbed"
                )
    notes.extend(f"errors: {line}" for line in results.failures(outcomes))
    return notes


def _ferretdb_version() -> str:
    go_mod = (ROOT / "tools" / "ferretdb" / "go.mod").read_text()
    found = re.search(r"github\.com/FerretDB/FerretDB\s+v(\S+)", go_mod)
    return found.group(1) if found else "(unknown version)"


def _git_commit() -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"
