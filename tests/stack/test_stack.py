"""The stack manager says clearly what failed instead of hanging."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from oneenglish.stack.errors import StackError
from oneenglish.stack.manager import Stack
from tests.conftest import make_settings


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_postgres_start_names_a_taken_port(occupied_port: int) -> None:
    stack = Stack(make_settings("test-ports", occupied_port, 1), durable=False)
    with pytest.raises(StackError, match=f"port 127.0.0.1:{occupied_port} is taken"):
        stack.postgres.start()


def test_ferretdb_start_names_a_taken_port(occupied_port: int) -> None:
    stack = Stack(make_settings("test-ports", 1, occupied_port), durable=False)
    with pytest.raises(StackError, match=f"port 127.0.0.1:{occupied_port} is taken"):
        stack.ferretdb.start()


def test_status_shows_where_each_server_listens(stack: Stack) -> None:
    lines = {line.name: line for line in stack.status()}
    assert lines["postgresql"].state == "running"
    assert lines["postgresql"].address == f"127.0.0.1:{stack.settings.local_postgres_port}"
    assert lines["ferretdb"].state == "running"


def test_a_set_url_skips_the_local_server() -> None:
    settings = make_settings(
        "test-external",
        1,
        2,
        database_url="postgresql://u:p@db.example.com/app",
        mongodb_url="mongodb://mongo.example.com/",
        smtp_url="smtp://mail.example.com:587",
        stripe_api_key="sk_test_external",
        stripe_webhook_secret="whsec_external",
    )
    states = {line.name: line.state for line in Stack(settings).status()}
    assert states == {
        "postgresql": "external",
        "mongodb": "external",
        "smtp": "external",
        "stripe": "external",
    }


def test_ferretdbs_backing_database_indexes_every_declared_index(
    stack: Stack, migrated: object
) -> None:
    """The local FerretDB answers point and list reads from indexes (stack/ferretdb_indexes.py):
    custom plans, and a GIN index on the first field of every declared MongoDB index."""
    from oneenglish.db.mongo import registered_indexes

    if not (stack.settings.uses_local_mongodb and stack.settings.ferretdb_backend == "postgresql"):
        pytest.skip("only the local FerretDB on PostgreSQL has a backing database")
    schema = stack.settings.mongodb_database
    found = stack.postgres.psql(
        f"SELECT indexname FROM pg_indexes WHERE schemaname = '{schema}'",  # noqa: S608
        database="ferretdb",
    ).stdout.split()
    for spec in registered_indexes():
        field = spec.keys[0][0]
        if "." in field:
            continue  # FerretDB pushes down top-level equality only: nothing to mirror
        table = re.sub(r"[^a-z0-9_]", "_", spec.collection.lower())  # FerretDB's table names
        assert any(name.endswith(f"_oe_{field}") and name.startswith(table) for name in found), (
            spec.collection,
            field,
        )
    setting = stack.postgres.psql(
        "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE d.datname = 'ferretdb'",
        database="postgres",
    ).stdout
    assert "plan_cache_mode=force_custom_plan" in setting
