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
