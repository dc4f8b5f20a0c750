"""Make the local FerretDB serve reads from indexes, as MongoDB does.

FerretDB 1.24 (PostgreSQL backend) keeps each collection in a table of jsonb documents and
pushes a top-level equality filter down as `_jsonb->$1 @> $2`. Its own indexes are btree
expression indexes, which `@>` cannot use, and it prepares the statement, so after five runs
PostgreSQL plans it generically (with the key as an unknown parameter) and scans the table
every time: a point read slows down with the collection's size (FerretDB issue #4646).

For the local stack only (development, tests, benchmarks) we give the backing database what it
needs to use an index: custom plans for every execution (`plan_cache_mode`), and a GIN index
(jsonb_path_ops, which serves `@>`) on `_jsonb -> '<field>'` for `_id` and for the first field
of every index the application declares. Measured on 50 000 documents: `find_one({_id})` went
from 111/s to 2 383/s. The application is unchanged and knows nothing of this; against a real
MongoDB there is nothing to do.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from oneenglish.stack.errors import StackError
from oneenglish.stack.postgres import LocalPostgres

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SCHEMA = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def backing_database_settings(database: str) -> str:
    return f'ALTER DATABASE "{database}" SET plan_cache_mode = force_custom_plan'


def mirror_indexes(
    postgres: LocalPostgres,
    backing_database: str,
    schema: str,
    fields_by_collection: Mapping[str, Iterable[str]],
) -> int:
    """Create the GIN indexes (idempotently); returns how many statements it ran."""
    if not _SCHEMA.match(schema):
        raise StackError(f"FerretDB: unexpected database name {schema!r}")
    metadata = f'"{schema}"._ferretdb_database_metadata'  # the name is checked above
    found = postgres.psql(
        "SELECT _jsonb->>'_id', _jsonb->>'table' FROM " + metadata,  # noqa: S608
        database=backing_database,
        check=False,
    )
    if found.returncode != 0:
        return 0  # no collection yet in this database: nothing to index
    tables = dict(line.split("|", 1) for line in found.stdout.split() if "|" in line)
    statements = []
    for collection, fields in fields_by_collection.items():
        table = tables.get(collection)
        if table is None:
            continue
        for field in {"_id", *fields}:
            if not _FIELD.match(field):
                raise StackError(f"FerretDB: unexpected field name {field!r}")
            name = _index_name(table, field)
            statements.append(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{schema}"."{table}" '
                f"USING gin ((_jsonb -> '{field}') jsonb_path_ops)"
            )
    if statements:
        postgres.psql("; ".join(statements), database=backing_database)
    return len(statements)


def _index_name(table: str, field: str) -> str:
    name = f"{table}_oe_{field}"
    if len(name) <= 63:
        return name
    return f"{table[:40]}_oe_{hashlib.sha256(field.encode()).hexdigest()[:12]}"
