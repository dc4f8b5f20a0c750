"""`python -m bench.scale` (`make bench SCENARIO=scale`): how the API scales out on this machine.

The read scenarios learners hit most, (a) a user, (c) a lesson, (d) progress and (e) the course
list, each against its raw-driver floor (measured again in every configuration, always
connecting directly, so each ratio is of one run), in these configurations:

- 1, 2 and 4 API processes (`WORKERS`: uvicorn's worker processes, one port);
- 2 processes reading from a streaming replica of the bench PostgreSQL (LOCAL_POSTGRES_REPLICAS,
  made afresh by pg_basebackup for the run): the catalogue and reports read there;
- 2 processes with every API connection through PgBouncer in transaction pooling mode
  (LOCAL_PGBOUNCER).

Each configuration is one pass of `python -m bench` (its stack started with that shape and
stopped after it). At the end, one table: each scenario's throughput per configuration, its
ratio to the floor, p99, the API's CPU and memory, throughput relative to one process, and
each database server's CPU while the API was measured (what saturates).
bench/README.md ("Scaling out") has the capacity model these figures feed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass

from bench import cli, results
from bench.api_server import ApiFailed
from bench.environment import BenchEnv, CommandFailed
from bench.wrk import WrkFailed

SCENARIO_KEYS = ("a", "c", "d", "e")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Shape:
    name: str
    workers: int
    replicas: int = 0
    pgbouncer: bool = False

    def env(self) -> BenchEnv:
        return BenchEnv(workers=self.workers, replicas=self.replicas, pgbouncer=self.pgbouncer)


SHAPES = (
    Shape("1 process", 1),
    Shape("2 processes", 2),
    Shape("4 processes", 4),
    Shape("2 + replica", 2, replicas=1),
    Shape("2 + PgBouncer", 2, pgbouncer=True),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument("--scenarios", default=",".join(SCENARIO_KEYS))
    parser.add_argument(
        "--shapes",
        default=",".join(str(i) for i in range(len(SHAPES))),
        help="which configurations, by number: "
        + ", ".join(f"{i}={s.name}" for i, s in enumerate(SHAPES)),
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    args = parser.parse_args(argv)
    args.scenario_keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    unknown = set(args.scenario_keys) - set(SCENARIO_KEYS)
    if unknown:
        parser.error(f"scenarios {sorted(unknown)}: this benchmark runs {SCENARIO_KEYS}")
    try:
        args.chosen = [SHAPES[int(i)] for i in args.shapes.split(",")]
    except (ValueError, IndexError):
        parser.error(f"--shapes: numbers from 0 to {len(SHAPES) - 1}")
    args.keep_stack = False
    args.db_security = "on"
    return args


def summary(by_shape: dict[str, list[results.ScenarioOutcome]]) -> str:
    header = (
        f"{'scenario':<26} {'configuration':<15} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>8}"
        f" {'API/floor':>9} {'x 1 proc':>8} {'cpu%':>5} {'RSS MiB':>8}  servers' cpu%"
    )
    lines = [header, "-" * len(header)]
    first = next(iter(by_shape.values()), [])
    for index in range(len(first)):
        single = None
        for shape, outcomes in by_shape.items():
            o = outcomes[index]
            if o.api is None:
                lines.append(f"{o.label[:26]:<26} {shape:<15} skipped: {o.skipped}")
                continue
            rate = o.api.requests_per_second
            single = single if single is not None else rate
            ratio = f"{rate / o.floor.operations_per_second:>9.2f}" if o.floor else f"{'-':>9}"
            lines.append(
                f"{o.label[:26]:<26} {shape:<15} {rate:>8.1f} {o.api.p50_ms:>7.1f}"
                f" {o.api.p99_ms:>8.1f} {ratio} {rate / single:>8.2f}"
                f" {o.api_cpu_percent:>5.0f} {o.rss_peak_bytes / MIB:>8.0f}  {_servers(o)}"
            )
        lines.append("")
    return "\n".join(lines)


SHORT = {"postgresql": "pg", "ferretdb": "ferret", "pgbouncer": "bouncer"}


def _servers(outcome: results.ScenarioOutcome) -> str:
    """Each database server's CPU while the API was measured (100 = one core)."""
    return " ".join(
        f"{SHORT.get(name, name)} {percent:.0f}"
        for name, percent in outcome.server_cpu_percent.items()
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    by_shape: dict[str, list[results.ScenarioOutcome]] = {}
    try:
        for shape in args.chosen:
            print(f"\nbench.scale: {shape.name}", flush=True)
            env = shape.env()
            if shape.replicas:
                # A standby made for this run: one kept from an earlier run may need WAL the
                # primary has recycled since, and would lag for good.
                for i in range(shape.replicas):
                    shutil.rmtree(env.data_dir / f"postgres-replica-{i + 1}", ignore_errors=True)
            by_shape[shape.name] = cli.run_pass(args, env)
    except (CommandFailed, ApiFailed, WrkFailed) as exc:
        print(f"bench.scale: {exc}", file=sys.stderr)
        sys.exit(2)
    print(
        f"\nscaling out: scale {args.scale}, {args.concurrency} connections, "
        f"{args.duration:.0f} s per measurement"
    )
    print(summary(by_shape))


if __name__ == "__main__":
    main()
