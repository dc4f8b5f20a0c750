"""The benchmark's data sets, one module each, loaded in bulk and once per scale.

A data set is loaded straight into both databases, the way the application would have left the
rows and documents, without going through HTTP (Argon2 alone would take hours at scale). Each
load is recorded in `bench_datasets` (a table of the bench database only) when it completes, so
a second run at the same scale skips it; a different scale, or a load interrupted half-way,
wipes the data set and loads it again.

To add one: write `bench/data/<name>.py` with `DATASET = DataSet(...)` and list it in
`_registry()`, after the data sets it needs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bench.data.scales import Scale
from bench.databases import Databases, vacuum

MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_datasets (
    name text PRIMARY KEY,
    scale text NOT NULL,
    rows bigint NOT NULL,
    load_seconds double precision NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class DataSet:
    name: str
    # The main row count at a scale, checked against the database as well as the marker.
    expected: Callable[[Scale], int]
    present: Callable[[Databases], Awaitable[int]]
    load: Callable[[Databases, Scale], Awaitable[None]]
    wipe: Callable[[Databases], Awaitable[None]]
    # Data sets whose rows point at this one's: reloading this one reloads them.
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadOutcome:
    name: str
    rows: int
    loaded: bool  # False: already there from an earlier run at this scale
    seconds: float


def _registry() -> dict[str, DataSet]:
    from bench.data import chat, courses, enrollments, reports, users

    # In load order: a data set comes after those it needs.
    return {
        ds.name: ds
        for ds in (
            users.DATASET,
            courses.DATASET,
            enrollments.DATASET,
            chat.DATASET,
            reports.DATASET,
        )
    }


def known() -> list[str]:
    return list(_registry())


async def ensure_loaded(db: Databases, names: Sequence[str], scale: Scale) -> list[LoadOutcome]:
    registry = _registry()
    missing = [n for n in names if n not in registry]
    if missing:
        raise ValueError(f"no loader for data sets {missing}; see bench/data/__init__.py")
    wanted = _with_needs(registry, names)
    await db.pool.execute(MARKER_DDL)
    outcomes: list[LoadOutcome] = []
    for dataset in (registry[n] for n in registry if n in wanted):
        expected = dataset.expected(scale)
        marker = await db.pool.fetchrow(
            "SELECT scale, rows FROM bench_datasets WHERE name = $1", dataset.name
        )
        intact = (
            marker is not None
            and marker["scale"] == scale.name
            and marker["rows"] == expected
            and await dataset.present(db) == expected
        )
        if intact:
            outcomes.append(LoadOutcome(dataset.name, expected, False, 0.0))
            continue
        started = time.perf_counter()
        await db.pool.execute("DELETE FROM bench_datasets WHERE name = $1", dataset.name)
        await dataset.wipe(db)
        await dataset.load(db, scale)
        seconds = time.perf_counter() - started
        await db.pool.execute(
            "INSERT INTO bench_datasets (name, scale, rows, load_seconds) VALUES ($1, $2, $3, $4)",
            dataset.name,
            scale.name,
            expected,
            seconds,
        )
        # Rows that pointed at the old data are gone or dangling: their data sets load again
        # the next time they are wanted.
        await db.pool.execute(
            "DELETE FROM bench_datasets WHERE name = ANY($1::text[])",
            _dependents(registry, dataset.name),
        )
        outcomes.append(LoadOutcome(dataset.name, expected, True, seconds))
    if any(o.loaded for o in outcomes):
        await vacuum(db.settings)
    return outcomes


def _with_needs(registry: dict[str, DataSet], names: Sequence[str]) -> set[str]:
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(registry[name].needs)
    return wanted


def _dependents(registry: dict[str, DataSet], name: str) -> list[str]:
    found: list[str] = []
    for candidate in registry.values():
        if name in candidate.needs or set(found).intersection(candidate.needs):
            found.append(candidate.name)
    return found
