"""Application settings: read once from the environment and `.env`, then passed down."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_PG_USER = "oneenglish"
LOCAL_PG_PASSWORD = "oneenglish"  # noqa: S105 - loopback-only development server


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"

    # Unset means "use the local stack": `oneenglish stack up` starts PostgreSQL and FerretDB on
    # loopback with data under DATA_DIR. Setting a URL skips the matching local server.
    database_url: str | None = None
    mongodb_url: str | None = None
    mongodb_database: str = "oneenglish"

    data_dir: Path = Path(".data")
    local_postgres_port: int = Field(55432, ge=1, le=65535)
    local_mongodb_port: int = Field(57017, ge=1, le=65535)
    local_postgres_database: str = "oneenglish"
    ferretdb_backend: Literal["sqlite", "postgresql"] = "postgresql"

    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    mongodb_max_pool_size: int = Field(50, ge=1, le=1000)
    # Upper bound for a database call made by the health check (seconds).
    health_timeout: float = Field(2.0, gt=0, le=30)
    # How long the MongoDB driver looks for a server before failing a call (seconds).
    mongodb_server_selection_timeout: float = Field(3.0, gt=0, le=60)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)

    secret_key: SecretStr = SecretStr("change-me-in-production-this-is-not-a-secret")

    @property
    def uses_local_postgres(self) -> bool:
        return self.database_url is None

    @property
    def uses_local_mongodb(self) -> bool:
        return self.mongodb_url is None

    @cached_property
    def postgres_url(self) -> str:
        """SQLAlchemy URL (asyncpg driver) of the PostgreSQL the application uses."""
        if self.database_url is not None:
            return _with_asyncpg_driver(self.database_url)
        return (
            f"postgresql+asyncpg://{LOCAL_PG_USER}:{LOCAL_PG_PASSWORD}"
            f"@127.0.0.1:{self.local_postgres_port}/{self.local_postgres_database}"
        )

    @cached_property
    def mongo_url(self) -> str:
        if self.mongodb_url is not None:
            return self.mongodb_url
        return f"mongodb://127.0.0.1:{self.local_mongodb_port}/"


def _with_asyncpg_driver(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def get_settings() -> Settings:
    return Settings()
