"""Application settings: read once from the environment and `.env`, then passed down."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_PG_USER = "oneenglish"
LOCAL_PG_PASSWORD = "oneenglish"  # noqa: S105 - loopback-only development server
DEV_SECRET_KEY = "development-only-secret-do-not-use-in-production"  # noqa: S105


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
    # How long a request waits for a free PostgreSQL connection before it gets a 503 (seconds).
    db_pool_timeout: float = Field(10.0, gt=0, le=120)
    mongodb_max_pool_size: int = Field(50, ge=1, le=1000)
    # Upper bound for a database call made by the health check (seconds).
    health_timeout: float = Field(2.0, gt=0, le=30)
    # How long the MongoDB driver looks for a server before failing a call (seconds).
    mongodb_server_selection_timeout: float = Field(3.0, gt=0, le=60)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    # Argon2 hashes running at once per process (each holds 64 MiB and a core); 0 = the cores
    # shared among the WORKERS processes, at least one each.
    password_hash_threads: int = Field(0, ge=0, le=64)

    # Larger request bodies are refused with 413 before they are read (chat allows 64 KiB).
    max_request_body_bytes: int = Field(1024 * 1024, ge=1024, le=100 * 1024 * 1024)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)

    # Signs access tokens (HS256). The default is for development only; production refuses it.
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    jwt_issuer: str = "oneenglish"
    access_token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(30 * 86_400, ge=300, le=365 * 86_400)

    # Failed logins allowed per account and per client IP within the window, then 429.
    login_max_failures_per_account: int = Field(5, ge=1, le=1000)
    login_max_failures_per_ip: int = Field(20, ge=1, le=100_000)
    login_failure_window_seconds: int = Field(900, ge=1, le=86_400)

    # Cross-database sagas: recovery leaves a saga to the request that started it for this long,
    # then finishes or compensates it; finished sagas are kept this long for inspection.
    saga_recovery_window_seconds: float = Field(30.0, ge=0, le=3600)
    saga_relay_interval_seconds: float = Field(2.0, gt=0, le=300)
    saga_retention_seconds: int = Field(7 * 86_400, ge=60)
    # Test-only fault injection (ignored unless ENVIRONMENT=test): pause between committing a
    # saga's intent and its MongoDB steps, so a test can kill the process there.
    test_pause_before_saga_steps: float = Field(0.0, ge=0, le=600)

    # Activity and error logs are written in the background from bounded in-process queues;
    # when a queue is full, entries are dropped (and counted) rather than slowing requests.
    activity_queue_size: int = Field(10_000, ge=1, le=1_000_000)
    error_log_queue_size: int = Field(1_000, ge=1, le=100_000)
    log_write_batch_size: int = Field(500, ge=1, le=10_000)
    # How long a writer waits after the first entry of a batch for more to join it. Measured
    # (bench (a), which reads MongoDB while the activity of its requests is written): 0.1 s
    # batched more but doubled p99 (FerretDB serves reads behind large inserts); 0.03 s kept p99.
    log_write_linger_seconds: float = Field(0.03, ge=0, le=10)
    # Retention (audit logs are kept forever): older entries are deleted by a maintenance loop
    # every LOG_PURGE_INTERVAL_SECONDS, and by `oneenglish purge-logs`.
    activity_retention_days: int = Field(90, ge=1, le=36_500)
    error_log_retention_days: int = Field(30, ge=1, le=36_500)
    log_purge_interval_seconds: float = Field(3600.0, gt=0, le=86_400)

    # Settings every new user starts with (user_settings.settings in MongoDB).
    default_user_settings: dict[str, Any] = Field(
        default_factory=lambda: {
            "language": "en",
            "timezone": "UTC",
            "theme": "light",
            "emailNotifications": True,
            "dailyGoalMinutes": 15,
        }
    )

    # The first administrator, created at start-up if no user has this email (never overwritten).
    admin_email: str | None = None
    admin_username: str = "admin"
    admin_password: SecretStr | None = None

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment == "production" and (secret == DEV_SECRET_KEY or len(secret) < 32):
            raise ValueError("SECRET_KEY must be set to a random value of 32+ characters")
        if (self.admin_email is None) != (self.admin_password is None):
            raise ValueError("ADMIN_EMAIL and ADMIN_PASSWORD must be set together")
        return self

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
