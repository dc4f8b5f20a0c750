"""Prometheus metrics: what operators graph and alert on (README "Metrics").

One registry of the process's metrics, fed by cheap hooks on the paths that already exist:
a pure ASGI middleware times each request by its route *template* (never the raw path, whose
ids would make a series per learner); SQLAlchemy cursor events and the driver reads time each
PostgreSQL statement by its verb; a PyMongo command listener times each MongoDB command by its
name. Gauges that describe state (pool usage, queue depths, sockets) are sampled by one task
per process every few seconds rather than updated on each request, and the saga backlog is read
from PostgreSQL when `/metrics` is scraped.

Several worker processes (`serve --workers N`) share one port, so a scrape reaches one of them
at random: `serve` then gives them a PROMETHEUS_MULTIPROC_DIR, prometheus-client's multiprocess
mode, and each scrape sums every worker's files (a dead worker's gauges are removed when the
next worker starts). Uses the library rather than hand-written counters: its text format,
histogram buckets and multiprocess merge are what Prometheus expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from oneenglish.core.context import route_template
from oneenglish.core.logging import get_logger
from oneenglish.core.middleware import call_timed

log = get_logger("oneenglish.metrics")

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Requests of an API: most take milliseconds, a few (reports, uploads) seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

HTTP_REQUESTS = Counter(
    "oneenglish_http_requests",
    "HTTP requests answered, by method, route template and status",
    ("method", "route", "status"),
)
HTTP_LATENCY = Histogram(
    "oneenglish_http_request_duration_seconds",
    "Time from a request's arrival to its response's last byte, by method and route template",
    ("method", "route"),
    buckets=_LATENCY_BUCKETS,
)
DB_LATENCY = Histogram(
    "oneenglish_db_operation_duration_seconds",
    "One database call: a PostgreSQL statement by its verb, a MongoDB command by its name",
    ("database", "operation"),
    buckets=_DB_BUCKETS,
)
DB_ERRORS = Counter(
    "oneenglish_db_operation_errors",
    "Database calls that failed, by database and operation",
    ("database", "operation"),
)
POOL_CONNECTIONS = Gauge(
    "oneenglish_db_pool_connections",
    "Connections of the PostgreSQL pools: checked out (in use) and open",
    ("pool", "state"),
    multiprocess_mode="livesum",
)
LOG_QUEUE_DEPTH = Gauge(
    "oneenglish_log_queue_depth",
    "Entries waiting in a background log writer's queue",
    ("log",),
    multiprocess_mode="livesum",
)
LOG_ENTRIES = Counter(
    "oneenglish_log_entries",
    "Background log entries by outcome: written, dropped (queue full) or failed (write error)",
    ("log", "outcome"),
)
REPLICA_LAG = Gauge(
    "oneenglish_replica_lag_seconds",
    "How far each PostgreSQL read replica's replay is behind the primary (as measured)",
    ("replica",),
    multiprocess_mode="max",
)
REPLICA_USABLE = Gauge(
    "oneenglish_replica_usable",
    "1 when reads may use the replica (answers, is a standby, within REPLICA_MAX_LAG_SECONDS)",
    ("replica",),
    multiprocess_mode="min",
)
WORKERS = Gauge(
    "oneenglish_worker_up",
    "1 for each API process serving (one series per process id with several workers)",
    multiprocess_mode="liveall",
)
WEBSOCKETS = Gauge(
    "oneenglish_websocket_connections",
    "WebSocket connections held",
    multiprocess_mode="livesum",
)

# Route templates are few; anything that matched none (a scanner's paths) shares one label.
_UNMATCHED = "(unmatched)"
_VERB = re.compile(r"^\s*(?:/\*.*?\*/\s*)?([A-Za-z]+)", re.S)
_KNOWN_VERBS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SET"}
)


def statement_verb(statement: str) -> str:
    """The label of a SQL statement: its first keyword if a common one, else `other`."""
    match = _VERB.match(statement)
    verb = match.group(1).upper() if match else ""
    return verb.lower() if verb in _KNOWN_VERBS else "other"


def observe_db(database: str, operation: str, seconds: float, *, failed: bool = False) -> None:
    DB_LATENCY.labels(database, operation).observe(seconds)
    if failed:
        DB_ERRORS.labels(database, operation).inc()


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI: no extra task).
    WebSockets are counted by the sampler, not here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        def count(status: int, seconds: float) -> None:
            route = route_template(scope) or _UNMATCHED
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(seconds)

        await call_timed(self.app, scope, receive, send, count)


# -- exposition --------------------------------------------------------------------------------


def forget_dead_workers(directory: Path | None) -> None:
    """Remove the live gauges of worker processes that are gone (a worker replaced by uvicorn's
    supervisor, or one that crashed) from PROMETHEUS_MULTIPROC_DIR: prometheus-client sums
    every file it finds."""
    if directory is None or not directory.is_dir():
        return
    pids = set()
    for path in directory.glob("gauge_live*_*.db"):
        with contextlib.suppress(ValueError):
            pids.add(int(path.stem.rsplit("_", 1)[1]))
    for pid in pids:
        if not psutil.pid_exists(pid):
            mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def render(directory: Path | None, extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition: every worker's metrics (those in PROMETHEUS_MULTIPROC_DIR, or this
    process's), then `extra` collectors computed now (the saga backlog)."""
    if directory is None:
        own = generate_latest(REGISTRY)
    else:
        merged = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(merged, path=str(directory))  # type: ignore[no-untyped-call]
        own = generate_latest(merged)
    now = CollectorRegistry(auto_describe=False)
    for collector in extra:
        now.register(collector)
    return own + generate_latest(now)


# -- the sampler -------------------------------------------------------------------------------

Sample = Callable[[], None]


async def sample_forever(samples: Iterable[Sample], interval: float) -> None:
    """Run each sampling function every `interval` seconds, until cancelled. A sample that
    fails is skipped this round: metrics never take the API down."""
    samples = list(samples)
    while True:
        for sample in samples:
            try:
                sample()
            except Exception as exc:  # a gauge left at its last value; logged, not raised
                log.warning("metrics sample failed", sample=sample.__name__, error=str(exc))
        await asyncio.sleep(interval)
