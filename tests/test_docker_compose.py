"""docker-compose.yml is for users with Docker; it must stay valid and wired to our settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from oneenglish.settings import Settings

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


def interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` / `${VAR:?message}` with nothing set in the environment."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "required", value)


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_compose_declares_the_platform_services() -> None:
    services = load()["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["mongo"]["image"] == "mongo:7"
    assert "MONGO_INITDB_ROOT_PASSWORD" in services["mongo"]["environment"]
    assert any(p.endswith(":5050:80") for p in services["pgadmin"]["ports"])
    assert any(p.endswith(":8081:8081") for p in services["mongo-express"]["ports"])
    assert services["app"]["build"] == "."


def test_app_environment_names_are_application_settings() -> None:
    env = load()["services"]["app"]["environment"]
    known = {name.upper() for name in Settings.model_fields}
    assert set(env) <= known


def test_app_urls_point_at_the_compose_services_with_their_credentials() -> None:
    services = load()["services"]
    env = {k: interpolate(str(v)) for k, v in services["app"]["environment"].items()}
    pg_env = services["postgres"]["environment"]

    database = urlsplit(env["DATABASE_URL"])
    assert database.hostname == "postgres"
    assert database.port == 5432
    # The API runs as the application's role, never as the owner or a superuser.
    assert database.username == env["DATABASE_APP_ROLE"] == "oneenglish_app"
    assert database.password == interpolate(pg_env["APP_PASSWORD"])
    assert database.path == "/oneenglish"
    owner = urlsplit(env["MIGRATION_DATABASE_URL"])
    assert owner.username == "oneenglish"
    assert owner.password == interpolate(pg_env["OWNER_PASSWORD"])
    roles_sql = (COMPOSE.parent / "deploy" / "postgres-roles.sql").read_text()
    for role in ("oneenglish", "oneenglish_app", env["DATABASE_REPORTING_ROLE"]):
        assert f"CREATE ROLE {role} LOGIN" in roles_sql

    mongo = urlsplit(env["MONGODB_URL"])
    mongo_env = services["mongo"]["environment"]
    assert mongo.hostname == "mongo"
    assert mongo.port == 27017
    # The application's MongoDB user (readWrite on its database), not the root user.
    assert mongo.username == mongo_env["MONGO_APP_USER"] != mongo_env["MONGO_INITDB_ROOT_USERNAME"]
    assert mongo.password == interpolate(mongo_env["MONGO_APP_PASSWORD"])
    assert "authSource=admin" in mongo.query
    init = (COMPOSE.parent / "deploy" / "mongo-init.js").read_text()
    assert 'role: "readWrite", db: database' in init

    express = urlsplit(
        interpolate(services["mongo-express"]["environment"]["ME_CONFIG_MONGODB_URL"])
    )
    assert express.hostname == "mongo"


def test_app_waits_for_healthy_databases() -> None:
    depends = load()["services"]["app"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["mongo"]["condition"] == "service_healthy"


# -- the scaled profile: a MongoDB replica set and a PostgreSQL streaming replica -------------

SCALED = ("postgres-replica", "mongo-keyfile", "mongo1", "mongo2", "mongo3", "mongo-rs-init")


def test_the_scaled_profile_is_separate_from_the_default_one() -> None:
    services = load()["services"]
    for name in (*SCALED, "app-scaled"):
        assert services[name]["profiles"] == ["scaled"], name
    for name in ("postgres", "mongo", "app", "mailpit", "pgadmin", "mongo-express"):
        assert "profiles" not in services[name], name


def test_the_replica_set_members_are_the_ones_the_app_and_the_initiation_name() -> None:
    services = load()["services"]
    members = ("mongo1", "mongo2", "mongo3")
    for name in members:
        command = services[name]["command"]
        assert command[command.index("--replSet") + 1] == "rs0"
        assert command[command.index("--keyFile") + 1] == "/keys/replica.key"
        assert "mongo-keys:/keys:ro" in services[name]["volumes"]
    initiation = (COMPOSE.parent / "deploy" / "mongo-replica-set.js").read_text()
    assert '_id: "rs0"' in initiation
    assert re.findall(r'host: "([a-z0-9]+):27017"', initiation) == list(members)

    env = {k: interpolate(str(v)) for k, v in services["app-scaled"]["environment"].items()}
    assert set(env) <= {name.upper() for name in Settings.model_fields}
    url = urlsplit(env["MONGODB_URL"])
    hosts = url.netloc.split("@", 1)[1].split(",")
    assert hosts == [f"{member}:27017" for member in members]
    assert {"replicaSet=rs0", "retryWrites=true", "w=majority"} <= set(url.query.split("&"))
    # The application's user, which only mongo1's first start creates (mongo-init.js).
    assert url.username == services["mongo1"]["environment"]["MONGO_APP_USER"]
    assert Settings(
        _env_file=None, mongodb_read_mostly_preference=env["MONGODB_READ_MOSTLY_PREFERENCE"]
    )
    assert "mongo-rs-init" in services["app-scaled"]["depends_on"]


def test_the_streaming_replica_copies_the_primary_with_the_role_made_for_it() -> None:
    services = load()["services"]
    replica = services["postgres-replica"]
    script = replica["command"][-1]
    assert "pg_basebackup -h postgres -U replicator" in script
    assert " -R " in script  # standby.signal and primary_conninfo written: a standby
    assert "hot_standby=on" in script
    primary = services["postgres"]
    assert any(v.endswith("20-replication.sh:ro") for v in primary["volumes"])
    setup = (COMPOSE.parent / "deploy" / "postgres-replication.sh").read_text()
    assert "CREATE ROLE replicator WITH LOGIN REPLICATION" in setup
    assert "host replication replicator" in setup
    assert replica["environment"]["PGPASSWORD"] == primary["environment"]["REPLICATION_PASSWORD"]
    # The scaled API reads from it, as the application's role (replicated from the primary).
    env = {k: interpolate(str(v)) for k, v in services["app-scaled"]["environment"].items()}
    reads = urlsplit(env["DATABASE_REPLICA_URLS"])
    assert reads.hostname == "postgres-replica"
    assert reads.username == "oneenglish_app"
    assert reads.password == interpolate(primary["environment"]["APP_PASSWORD"])
