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
    assert database.username == pg_env["POSTGRES_USER"]
    assert database.password == interpolate("${POSTGRES_PASSWORD:-oneenglish}")
    assert database.path == "/" + pg_env["POSTGRES_DB"]

    mongo = urlsplit(env["MONGODB_URL"])
    mongo_env = services["mongo"]["environment"]
    assert mongo.hostname == "mongo"
    assert mongo.port == 27017
    assert mongo.username == mongo_env["MONGO_INITDB_ROOT_USERNAME"]
    assert "authSource=admin" in mongo.query

    express = urlsplit(
        interpolate(services["mongo-express"]["environment"]["ME_CONFIG_MONGODB_URL"])
    )
    assert express.hostname == "mongo"


def test_app_waits_for_healthy_databases() -> None:
    depends = load()["services"]["app"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["mongo"]["condition"] == "service_healthy"
