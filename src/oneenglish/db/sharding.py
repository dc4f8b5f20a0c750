"""MongoDB beyond one server: each collection's sharding plan, majority writes, read-mostly reads.

The local stack runs one FerretDB, but production may run a replica set or a sharded cluster
(README "Scaling MongoDB"): only `MONGODB_URL` changes. What the code must know is declared
here, per collection, next to its indexes (each domain's models.py):

- **The shard key**, or why the collection stays on one shard, with the reason. A key must be
  a prefix of one of the collection's registered indexes (a sharded collection needs an index
  that starts with its key), every unique index of a sharded collection must start with the
  key (MongoDB refuses the collection otherwise), a ranged key is ascending, and a collection
  whose documents are inserted once by a deterministic `_id` (a redelivered event) keeps time
  out of its key, so that a retried insert reaches the same shard and meets its duplicate.
  tests/db/test_sharding.py holds every plan to these rules, so a misconfigured plan fails
  the test suite, not a cluster; `oneenglish mongo shard-plan` prints the commands.
- **Majority writes** for what must survive a failover (`durable`): every saga step (the
  MongoDB half of a cross-database write, which the saga log marks done once acknowledged) and
  every audit entry. MongoDB 5+ already defaults to `w: majority` on a replica set; this keeps
  it so whatever `w=` the URL says.
- **Read-mostly collections** (`read_mostly=True`: lesson content) may be read from
  secondaries, with MONGODB_READ_MOSTLY_PREFERENCE (default `primary`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pymongo import ReadPreference, WriteConcern
from pymongo.read_preferences import _ServerMode

from oneenglish.db.mongo import Collection, Database, IndexSpec, registered_indexes

ShardKey = tuple[tuple[str, int], ...]

MAJORITY = WriteConcern(w="majority")
_PREFERENCES: dict[str, _ServerMode] = {
    "primary": ReadPreference.PRIMARY,
    "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST,
}
READ_PREFERENCES = tuple(_PREFERENCES)
# Objects bound to a database handle (this module's reader, db/encryption.py's cipher).
_BOUND_PREFIX = "_oneenglish_"
_READ_MOSTLY = "_oneenglish_read_mostly"


@dataclass(frozen=True)
class CollectionPlan:
    """How one collection scales: `shard_key` (None: not sharded) and why."""

    collection: str
    shard_key: ShardKey | None
    why: str
    read_mostly: bool = False
    # Inserted once by a deterministic `_id`: a retry must reach the same shard.
    inserted_once: bool = False


_PLANS: dict[str, CollectionPlan] = {}


def register_plans(*plans: CollectionPlan) -> None:
    for plan in plans:
        _PLANS[plan.collection] = plan


def plans() -> list[CollectionPlan]:
    return sorted(_PLANS.values(), key=lambda plan: plan.collection)


def plan_problems(candidates: Iterable[CollectionPlan], indexes: Iterable[IndexSpec]) -> list[str]:
    """What a cluster would refuse, or get wrong, in these plans (empty: nothing)."""
    by_collection: dict[str, list[IndexSpec]] = {}
    for spec in indexes:
        by_collection.setdefault(spec.collection, []).append(spec)
    problems = []
    for plan in candidates:
        key = plan.shard_key
        if key is None:
            continue
        specs = by_collection.get(plan.collection, [])
        if any(direction != 1 for _, direction in key):
            problems.append(f"{plan.collection}: a ranged shard key is ascending: {dict(key)}")
        implicit = [(("_id", 1),)]
        if not any(spec.keys[: len(key)] == key for spec in specs) and key not in implicit:
            problems.append(f"{plan.collection}: shard key {dict(key)} is no index's prefix")
        for spec in specs:
            if spec.unique and spec.keys[: len(key)] != key:
                problems.append(
                    f"{plan.collection}: unique index {spec.name} does not start with the "
                    f"shard key {dict(key)}"
                )
        if plan.inserted_once and any(name in _TIME_FIELDS for name, _ in key):
            problems.append(
                f"{plan.collection}: inserted once by _id, but its shard key holds a time"
            )
    return problems


# Fields that hold the time of a write: a retried insert may carry a new one.
_TIME_FIELDS = frozenset({"timestamp", "createdAt", "earnedAt", "updatedAt", "submittedAt"})


def unplanned(collections: Iterable[str]) -> list[str]:
    return sorted(set(collections) - set(_PLANS))


def shard_commands(database: str) -> list[str]:
    """mongosh commands that shard this database as planned (for a real cluster)."""
    lines = [f'sh.enableSharding("{database}")']
    for plan in plans():
        if plan.shard_key is None:
            lines.append(f"// {plan.collection}: not sharded: {plan.why}")
            continue
        key = ", ".join(f"{name}: {direction}" for name, direction in plan.shard_key)
        lines.append(f"// {plan.collection}: {plan.why}")
        lines.append(f'sh.shardCollection("{database}.{plan.collection}", {{{key}}})')
    return lines


# -- write concern and read preference ----------------------------------------------------------


def durable(database: Database) -> Database:
    """The database with majority-acknowledged writes (the saga steps, the audit log). What is
    bound to the handle (the field cipher, the read-mostly reader) comes along."""
    majority = database.with_options(write_concern=MAJORITY)
    for name, value in database.__dict__.items():
        if name.startswith(_BOUND_PREFIX):
            setattr(majority, name, value)
    return majority


def bind_read_preference(database: Database, preference: str) -> None:
    """Read-mostly collections of `database` are read with `preference` from now on."""
    setattr(database, _READ_MOSTLY, database.with_options(read_preference=_PREFERENCES[preference]))


def read_mostly(database: Database, collection: str) -> Collection:
    """`collection` for a read that may be served by a secondary (MONGODB_READ_MOSTLY_PREFERENCE),
    when its plan says it is read-mostly; otherwise the database's own (the primary)."""
    plan = _PLANS.get(collection)
    reader = database.__dict__.get(_READ_MOSTLY) if plan and plan.read_mostly else None
    return (reader if reader is not None else database)[collection]


def registered_collections() -> set[str]:
    return {spec.collection for spec in registered_indexes()}
