"""Application settings: read once from the environment and `.env`, then passed down."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import ssl
import tempfile
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The local stack's PostgreSQL roles (db/privileges.py says what each may do): the owner of
# every object, who runs the migrations; the application's role; a read-only reporting role;
# and the role FerretDB's clients authenticate as (it owns FerretDB's backing database only).
# Their passwords are generated once into DATA_DIR/credentials/ (see `local_password`).
LOCAL_PG_USER = "oneenglish"
LOCAL_APP_ROLE = "oneenglish_app"
LOCAL_REPORTING_ROLE = "oneenglish_reporting"
LOCAL_MONGO_USER = "oneenglish_mongo"
LOCAL_ROLES = (LOCAL_PG_USER, LOCAL_APP_ROLE, LOCAL_REPORTING_ROLE, LOCAL_MONGO_USER)
LOCAL_REDIS_USER = "redis"  # the local Redis' password (its `default` user)
MIN_SECRET_LENGTH = 32
FIELD_MASTER_KEY_BYTES = 96
# OWASP's minimum for Argon2id (Password Storage Cheat Sheet): t=2 with 19 MiB.
MIN_PRODUCTION_HASH_TIME_COST = 2
MIN_PRODUCTION_HASH_MEMORY_KIB = 19 * 1024
# What REQUIRE_VERIFIED_EMAIL_FOR may name.
GATED_ACTIONS = ("chat", "paid_enrollment")
# A list setting from the environment: comma-separated (`a, b`), or a JSON array.
CommaList = Annotated[list[str], NoDecode]


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
    # Read replicas (PostgreSQL streaming standbys) for read-only pages (db/replicas.py,
    # README "Read replicas"), with the application's credentials; unset: the local stack's
    # LOCAL_POSTGRES_REPLICAS, or none. A replica behind the primary by more than
    # REPLICA_MAX_LAG_SECONDS, or that does not answer, is skipped: reads go to the primary.
    database_replica_urls: CommaList = Field(default_factory=list)
    replica_max_lag_seconds: float = Field(5.0, gt=0, le=3600)
    # How often each process asks its replicas how far they have replayed (seconds).
    replica_check_seconds: float = Field(0.5, gt=0, le=60)
    # A connection pooler in front of PostgreSQL (README "PgBouncer"): `pgbouncer` in
    # transaction pooling mode makes every connection keep no state between transactions
    # (Row Level Security scope per transaction, no cached prepared statements). Then LISTEN,
    # which needs a connection of its own for good, uses DATABASE_DIRECT_URL (the server
    # itself, same role), unless the real-time fan-out goes through Redis.
    database_pooler: Literal["none", "pgbouncer"] = "none"
    database_direct_url: str | None = None
    # The owner's URL, for `oneenglish migrate` (DDL and grants); unset = DATABASE_URL (a
    # deployment with one role), or the local stack's owner role.
    migration_database_url: str | None = None
    # The roles `migrate` grants the application's and the reporting privileges to
    # (db/privileges.py); unset = none outside the local stack, whose roles are made for it.
    database_app_role: str | None = None
    database_reporting_role: str | None = None
    # TLS to PostgreSQL, in libpq's sslmode names; the CA bundle that signs the server's
    # certificate (unset: the local stack's own CA, or the system's trust store elsewhere).
    database_sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "verify-full"
    database_sslrootcert: FilePath | None = None
    # Give every connection the caller's Row Level Security scope (db/rls.py). Only the bench
    # turns it off, with the policies disabled, to measure what RLS costs: with the policies
    # on, a connection without a scope sees none of the protected rows.
    database_row_security: bool = True
    # The CA bundle for MongoDB's TLS (MONGODB_URL's own `tls=true&tlsCAFile=` work too); the
    # local FerretDB serves TLS only and is verified against the local stack's CA.
    mongodb_tls_ca_file: FilePath | None = None
    # Field-level encryption of personal profile fields (db/encryption.py): the master key
    # (96 random bytes, base64; production refuses to start without one, elsewhere one is
    # generated into DATA_DIR), the key vault's namespace (default: `<MONGODB_DATABASE>_keyvault
    # .datakeys`, a database of its own), and how long a process keeps a data key in memory.
    field_encryption_master_key: SecretStr | None = None
    # Only for `oneenglish keys rotate`: the master key the data keys are wrapped with now.
    field_encryption_old_master_key: SecretStr | None = None
    field_encryption_key_vault: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+$")
    field_encryption_key_cache_seconds: float = Field(10.0, gt=0, le=3600)

    data_dir: Path = Path(".data")
    local_postgres_port: int = Field(55432, ge=1, le=65535)
    # Streaming replicas the local stack starts (pg_basebackup of its PostgreSQL), on
    # LOCAL_POSTGRES_REPLICA_PORT and the next ports; the API reads from them.
    local_postgres_replicas: int = Field(0, ge=0, le=4)
    local_postgres_replica_port: int = Field(55442, ge=1, le=65530)
    # PgBouncer (Debian's) in front of the local PostgreSQL, transaction pooling, TLS on both
    # sides: the application's connections go through it (README "PgBouncer").
    local_pgbouncer: bool = False
    local_pgbouncer_port: int = Field(56432, ge=1, le=65535)
    local_mongodb_port: int = Field(57017, ge=1, le=65535)
    local_postgres_database: str = "oneenglish"
    # The admin UIs of `oneenglish admin up` (pgAdmin 4, Mongo Express), on loopback.
    local_pgadmin_port: int = Field(5050, ge=1, le=65535)
    local_mongo_express_port: int = Field(8081, ge=1, le=65535)
    ferretdb_backend: Literal["sqlite", "postgresql"] = "postgresql"
    # Only to measure what TLS costs (`python -m bench --db-security both`): false lets the
    # local PostgreSQL also accept plain-text connections and FerretDB listen without TLS.
    local_database_tls: bool = True

    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    # How long a request waits for a free PostgreSQL connection before it gets a 503 (seconds).
    db_pool_timeout: float = Field(10.0, gt=0, le=120)
    mongodb_max_pool_size: int = Field(50, ge=1, le=1000)
    # Where reads of read-mostly collections (lesson content) go on a replica set
    # (db/sharding.py, README "Scaling MongoDB"); `primary` on a single server.
    mongodb_read_mostly_preference: Literal[
        "primary", "primaryPreferred", "secondaryPreferred", "nearest"
    ] = "primary"
    # Upper bound for a database call made by the health check (seconds).
    health_timeout: float = Field(2.0, gt=0, le=30)
    # How long the MongoDB driver looks for a server before failing a call (seconds).
    mongodb_server_selection_timeout: float = Field(3.0, gt=0, le=60)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    # Argon2 hashes running at once per process (each holds 64 MiB and a core); 0 = the cores
    # shared among the WORKERS processes, at least one each.
    password_hash_threads: int = Field(0, ge=0, le=64)
    # Argon2id's cost: passes and memory per hash. The defaults are RFC 9106's second
    # recommendation (t=3, 64 MiB); production refuses less than OWASP's minimum (t=2, 19 MiB).
    # The test suite lowers them (a hash then costs ~1 ms instead of ~100: 64 % of its time).
    password_hash_time_cost: int = Field(3, ge=1, le=20)
    password_hash_memory_kib: int = Field(64 * 1024, ge=64, le=4 * 1024 * 1024)

    # Larger request bodies are refused with 413 before they are read (chat allows 64 KiB).
    max_request_body_bytes: int = Field(1024 * 1024, ge=1024, le=100 * 1024 * 1024)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # On SIGTERM a process stops accepting connections and gives the requests in flight this
    # long to finish (then closes them), writes out its log queues and exits 0.
    shutdown_grace_seconds: int = Field(20, ge=0, le=600)
    # `oneenglish run --api-replicas N`: the replicas listen on this port and the next ones,
    # nginx on PORT in front of them (README "Several API replicas").
    api_replica_base_port: int = Field(8101, ge=1, le=65000)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs, `*` for
    # any). None by default: a client's address is the address it connected from.
    forwarded_allow_ips: CommaList = Field(default_factory=list)
    # Origins a browser may call the API from (CORS). None by default: no cross-origin calls.
    cors_allow_origins: CommaList = Field(default_factory=list)

    # Signs access tokens (HS256) and list cursors. Production refuses to start without one;
    # elsewhere, a random key is generated once into DATA_DIR/secret-key (see `signing_key`).
    secret_key: SecretStr | None = None
    jwt_issuer: str = "oneenglish"
    access_token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(30 * 86_400, ge=300, le=365 * 86_400)

    # Login throttling (auth/service.py, README "Login throttling"): consecutive failed logins
    # allowed per account *and* client address, per account from anywhere, and per address
    # across accounts; from then on each failure blocks that subject for base * 2^n seconds
    # (capped). Counts are forgotten after LOGIN_FAILURE_RESET_SECONDS without a failure.
    login_free_failures_per_client: int = Field(5, ge=1, le=1000)
    login_account_lock_threshold: int = Field(100, ge=1, le=100_000)
    login_max_failures_per_ip: int = Field(20, ge=1, le=100_000)
    login_backoff_base_seconds: float = Field(1.0, gt=0, le=3600)
    login_backoff_max_seconds: float = Field(900.0, gt=0, le=86_400)
    login_failure_reset_seconds: int = Field(86_400, ge=60, le=30 * 86_400)

    # Rate limits on actions that cost others something (429 with Retry-After past them).
    signups_per_ip_per_hour: int = Field(20, ge=1, le=1_000_000)
    # The public catalogue without a token (a marketing site, an app before sign-in).
    anonymous_reads_per_ip_per_minute: int = Field(300, ge=1, le=1_000_000)
    messages_per_sender_per_minute: int = Field(30, ge=1, le=100_000)
    messages_per_recipient_per_minute: int = Field(60, ge=1, le=100_000)

    # Honest time: all of a learner's progress updates together are credited at most the wall
    # clock since their first, plus this slack (for a request that took a moment to arrive).
    study_time_slack_seconds: int = Field(60, ge=0, le=3600)

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

    # Mail (mail/, README "Mail"): unset SMTP_URL means the local stack's Mailpit, which
    # catches every mail on loopback (its web UI on LOCAL_MAILPIT_UI_PORT). `smtp://` upgrades
    # with STARTTLS when the server offers it (always, if `?starttls=required`), `smtps://` is
    # TLS from the first byte; credentials go in the URL (`smtp://user:password@host:587`).
    smtp_url: SecretStr | None = None
    # The CA bundle the SMTP server's certificate is checked against (unset: the system's,
    # or the local stack's CA for its Mailpit).
    smtp_tls_ca_file: FilePath | None = None
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120)
    mail_from: str = Field("OneEnglish <no-reply@oneenglish.dev>", max_length=200)
    platform_name: str = Field("OneEnglish", min_length=1, max_length=60)
    # Where the links in mails point: the web app, which serves /account/… and calls the API.
    public_base_url: str = Field(
        "http://127.0.0.1:8000", pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$"
    )
    local_smtp_port: int = Field(1025, ge=1, le=65535)
    local_mailpit_ui_port: int = Field(8025, ge=1, le=65535)

    # Accounts (accounts/, README "Accounts"): how long each link in a mail works, and what an
    # address that was never verified may not do (`chat`, `paid_enrollment`; none by default).
    email_verification_ttl_seconds: int = Field(48 * 3600, ge=300, le=30 * 86_400)
    password_reset_ttl_seconds: int = Field(30 * 60, ge=60, le=86_400)
    email_change_ttl_seconds: int = Field(24 * 3600, ge=300, le=30 * 86_400)
    # How long the old address may undo an email change from the notice it was sent.
    email_change_undo_seconds: int = Field(7 * 86_400, ge=3600, le=90 * 86_400)
    require_verified_email_for: CommaList = Field(default_factory=list)
    # Mails a person can make the platform send (429 past them): per address and per client.
    account_mails_per_address_per_hour: int = Field(5, ge=1, le=10_000)
    account_mails_per_ip_per_hour: int = Field(30, ge=1, le=100_000)

    # Email digests of unread notifications: sent at the first maintenance pass after this
    # hour (UTC) of each day (daily) or of each Monday (weekly), and by `send-digests`.
    digest_hour_utc: int = Field(7, ge=0, le=23)
    digest_interval_seconds: float = Field(300.0, gt=0, le=86_400)

    # Real time (realtime/, README "Real time"): what a WebSocket keeps and how it is cut off.
    # Events waiting to be written to one socket; past it the client is too slow and is
    # closed with 4409 (resync), so no buffer grows without bound and no sender waits.
    realtime_queue_size: int = Field(256, ge=1, le=100_000)
    # A reconnecting client gets at most this many missed events per stream (else: resync).
    realtime_replay_limit: int = Field(500, ge=1, le=100_000)
    realtime_event_retention_seconds: int = Field(86_400, ge=60, le=30 * 86_400)
    # How often each process checks that its sockets' sessions still stand (logout, password
    # change, deactivation, erasure close them within this).
    realtime_session_check_seconds: float = Field(2.0, gt=0, le=300)
    realtime_auth_timeout_seconds: float = Field(10.0, gt=0, le=300)
    # Fan-out across API processes: PostgreSQL LISTEN/NOTIFY unless REDIS_URL is set (or
    # LOCAL_REDIS, the local stack's Redis); README "Real time" says which and why. With
    # Redis, pointers are published after commit, and every REALTIME_SWEEP_SECONDS each
    # process also reads the newest stored events, so an event whose process died between
    # its commit and its announcement still reaches live sockets.
    redis_url: SecretStr | None = None
    # The CA bundle Redis' certificate is checked against (`rediss://`; unset: the system's,
    # or the local stack's CA for its Redis).
    redis_tls_ca_file: FilePath | None = None
    local_redis: bool = False
    local_redis_port: int = Field(6380, ge=1, le=65535)
    realtime_sweep_seconds: float = Field(2.0, gt=0, le=60)

    # Metrics (README "Metrics"): GET /metrics in Prometheus' format, for a scraper sending
    # this value as a bearer token; unset, /metrics is a 404. Gauges (pool usage, queue depths,
    # sockets) are sampled every METRICS_SAMPLE_SECONDS.
    metrics_token: SecretStr | None = None
    metrics_sample_seconds: float = Field(5.0, gt=0, le=300)
    # The directory `serve --workers N`'s processes share their metrics through
    # (prometheus-client's own variable). Unset: serve makes a temporary one and removes it.
    prometheus_multiproc_dir: Path | None = None

    # Payments (payments/, README "Payments"): Stripe Checkout. Unset STRIPE_API_KEY means the
    # local stack's stripe-mock (Stripe's official mock server, on loopback; test keys only)
    # and a webhook secret generated for this DATA_DIR; in production it means that paid
    # courses cannot be bought (503) until both are set.
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    # How old a webhook's signed timestamp may be (replays older than this are refused).
    stripe_webhook_tolerance_seconds: int = Field(300, ge=1, le=3600)
    stripe_timeout_seconds: float = Field(20.0, gt=0, le=120)
    local_stripe_mock_port: int = Field(12111, ge=1, le=65535)
    # The currency of a course created without one (ISO 4217).
    default_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    # A checkout session, and its pending order, expire after this (Stripe: 30 min to 24 h).
    checkout_ttl_seconds: int = Field(3600, ge=1800, le=86_400)
    # A learner may refund their own order within this many days of paying (0: staff only).
    self_refund_window_days: int = Field(14, ge=0, le=365)
    # How often a maintenance pass expires pending orders whose session has expired.
    order_expiry_interval_seconds: float = Field(60.0, gt=0, le=86_400)

    # Files (files/, README "Files"): the largest file of each purpose, in bytes.
    lesson_media_max_bytes: int = Field(50 * 1024 * 1024, ge=1024, le=1024**3)
    recording_max_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=1024**3)
    chat_attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=1024**3)
    avatar_max_bytes: int = Field(2 * 1024 * 1024, ge=1024, le=1024**3)

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

    @field_validator(
        "forwarded_allow_ips",
        "cors_allow_origins",
        "require_verified_email_for",
        "database_replica_urls",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if self.secret_key is not None and len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be a random value of {MIN_SECRET_LENGTH}+ characters"
            )
        if self.environment == "production" and self.secret_key is None:
            raise ValueError("SECRET_KEY must be set in production (a random value of 32+ chars)")
        if (self.admin_email is None) != (self.admin_password is None):
            raise ValueError("ADMIN_EMAIL and ADMIN_PASSWORD must be set together")
        if (self.stripe_api_key is None) != (self.stripe_webhook_secret is None):
            raise ValueError("STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET must be set together")
        token = self.metrics_token.get_secret_value() if self.metrics_token else None
        if token is not None and len(token) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"METRICS_TOKEN must be a random value of {MIN_SECRET_LENGTH}+ characters"
            )
        return self

    @model_validator(mode="after")
    def _a_pooler_leaves_listen_a_way(self) -> Settings:
        # LISTEN holds its connection for good: through a transaction pooler it would hear
        # nothing (its server connection goes to the next client after each statement).
        if (
            self.database_pooler == "pgbouncer"
            and self.database_url is not None
            and self.database_direct_url is None
            and not self.uses_redis
        ):
            raise ValueError(
                "DATABASE_POOLER=pgbouncer needs DATABASE_DIRECT_URL (PostgreSQL itself, for "
                "the real-time fan-out's LISTEN) or REDIS_URL (the fan-out through Redis)"
            )
        return self

    @field_validator("require_verified_email_for")
    @classmethod
    def _known_gated_actions(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(GATED_ACTIONS))
        if unknown:
            raise ValueError(f"unknown actions {unknown}; choose from {list(GATED_ACTIONS)}")
        return value

    @field_validator("database_sslrootcert", "mongodb_tls_ca_file", "smtp_tls_ca_file")
    @classmethod
    def _a_readable_ca_bundle(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ssl.create_default_context(cafile=str(value))
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"{value} is not a readable PEM CA bundle ({exc})") from exc
        return value

    @field_validator("field_encryption_master_key", "field_encryption_old_master_key")
    @classmethod
    def _a_96_byte_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                decoded = base64.b64decode(value.get_secret_value(), validate=True)
            except ValueError as exc:
                raise ValueError("not base64") from exc
            if len(decoded) != FIELD_MASTER_KEY_BYTES:
                raise ValueError(f"must be {FIELD_MASTER_KEY_BYTES} random bytes in base64")
        return value

    @model_validator(mode="after")
    def _production_has_a_master_key(self) -> Settings:
        if self.environment == "production" and self.field_encryption_master_key is None:
            raise ValueError(
                "FIELD_ENCRYPTION_MASTER_KEY must be set in production (96 random bytes in "
                "base64: `python -c 'import os,base64;print(base64.b64encode(os.urandom(96))"
                ".decode())'`)"
            )
        return self

    @model_validator(mode="after")
    def _production_hashes_are_costly(self) -> Settings:
        if self.environment == "production" and (
            self.password_hash_time_cost < MIN_PRODUCTION_HASH_TIME_COST
            or self.password_hash_memory_kib < MIN_PRODUCTION_HASH_MEMORY_KIB
        ):
            raise ValueError(
                "PASSWORD_HASH_TIME_COST must be at least "
                f"{MIN_PRODUCTION_HASH_TIME_COST} and PASSWORD_HASH_MEMORY_KIB at least "
                f"{MIN_PRODUCTION_HASH_MEMORY_KIB} in production (OWASP's minimum for Argon2id)"
            )
        return self

    @cached_property
    def signing_key(self) -> str:
        """SECRET_KEY, or (outside production) the key generated for this DATA_DIR."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _generated_secret(self.data_dir / "secret-key")

    @property
    def uses_local_postgres(self) -> bool:
        return self.database_url is None

    @property
    def uses_local_mongodb(self) -> bool:
        return self.mongodb_url is None

    @property
    def uses_local_smtp(self) -> bool:
        return self.smtp_url is None

    @property
    def smtp_target(self) -> str:
        """SMTP_URL, or the local stack's Mailpit (STARTTLS required, verified by its CA)."""
        if self.smtp_url is not None:
            return self.smtp_url.get_secret_value()
        return f"smtp://127.0.0.1:{self.local_smtp_port}?starttls=required"

    @property
    def smtp_ca_file(self) -> Path | None:
        if self.smtp_tls_ca_file is not None:
            return self.smtp_tls_ca_file
        return self.local_tls_dir / "ca.pem" if self.uses_local_smtp else None

    @property
    def uses_local_stripe(self) -> bool:
        """stripe-mock: outside production, when no Stripe account is configured."""
        return self.stripe_api_key is None and self.environment != "production"

    @property
    def payments_enabled(self) -> bool:
        """Production without STRIPE_API_KEY takes no payment (paid checkouts get a 503)."""
        return self.stripe_api_key is not None or self.uses_local_stripe

    @property
    def stripe_api_base(self) -> str | None:
        """None: Stripe itself; else the local stack's stripe-mock (plain HTTP on loopback)."""
        return f"http://127.0.0.1:{self.local_stripe_mock_port}" if self.uses_local_stripe else None

    @property
    def stripe_key(self) -> str:
        if self.stripe_api_key is not None:
            return self.stripe_api_key.get_secret_value()
        return "sk_test_oneenglishlocal"  # stripe-mock: any sk_test_ key of letters, digits

    @cached_property
    def webhook_secret(self) -> str:
        """STRIPE_WEBHOOK_SECRET, or (with the local mock) one generated for this DATA_DIR."""
        if self.stripe_webhook_secret is not None:
            return self.stripe_webhook_secret.get_secret_value()
        return _generated_secret(
            self.data_dir / "credentials" / "stripe-webhook-secret",
            lambda: "whsec_" + secrets.token_urlsafe(32),
        )

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None or self.local_redis

    @property
    def uses_local_redis(self) -> bool:
        return self.redis_url is None and self.local_redis

    @property
    def redis_target(self) -> str:
        """REDIS_URL, or the local stack's Redis (TLS verified by its CA, with its password)."""
        if self.redis_url is not None:
            return self.redis_url.get_secret_value()
        password = self.local_password(LOCAL_REDIS_USER)
        return f"rediss://default:{password}@127.0.0.1:{self.local_redis_port}/0"

    @property
    def redis_ca_file(self) -> Path | None:
        if self.redis_tls_ca_file is not None:
            return self.redis_tls_ca_file
        return self.local_tls_dir / "ca.pem" if self.uses_local_redis else None

    def requires_verified_email(self, action: str) -> bool:
        return action in self.require_verified_email_for

    @property
    def field_master_key(self) -> bytes:
        """FIELD_ENCRYPTION_MASTER_KEY, or (outside production) the key made for DATA_DIR."""
        if self.field_encryption_master_key is not None:
            text = self.field_encryption_master_key.get_secret_value()
        else:
            text = _generated_secret(
                self.data_dir / "field-encryption-master-key",
                lambda: base64.b64encode(secrets.token_bytes(FIELD_MASTER_KEY_BYTES)).decode(),
            )
        return base64.b64decode(text)

    @property
    def key_vault_namespace(self) -> str:
        return self.field_encryption_key_vault or f"{self.mongodb_database}_keyvault.datakeys"

    def local_password(self, role: str) -> str:
        """The local stack's password for one of LOCAL_ROLES, generated once for DATA_DIR."""
        return _generated_secret(self.data_dir / "credentials" / role)

    @property
    def local_tls_dir(self) -> Path:
        return (self.data_dir / "tls").resolve()

    def _local_postgres_url(self, role: str, port: int | None = None) -> str:
        return (
            f"postgresql+asyncpg://{role}:{self.local_password(role)}"
            f"@127.0.0.1:{port or self.local_postgres_port}/{self.local_postgres_database}"
        )

    @property
    def pooled(self) -> bool:
        """Whether the application's connections go through PgBouncer (transaction pooling)."""
        if self.uses_local_postgres:
            return self.local_pgbouncer or self.database_pooler == "pgbouncer"
        return self.database_pooler == "pgbouncer"

    @property
    def uses_local_pgbouncer(self) -> bool:
        return self.uses_local_postgres and self.local_pgbouncer

    @cached_property
    def postgres_direct_url(self) -> str:
        """The application's role on the server itself, past any pooler: for LISTEN."""
        if self.database_direct_url is not None:
            return _with_asyncpg_driver(self.database_direct_url)
        if self.uses_local_postgres:
            return self._local_postgres_url(LOCAL_APP_ROLE)
        return self.postgres_url

    @cached_property
    def postgres_replica_urls(self) -> tuple[str, ...]:
        """SQLAlchemy URLs of the read replicas, as the application's role."""
        if self.database_replica_urls:
            return tuple(_with_asyncpg_driver(url) for url in self.database_replica_urls)
        if self.database_url is not None:
            return ()
        role = LOCAL_APP_ROLE
        return tuple(
            f"postgresql+asyncpg://{role}:{self.local_password(role)}"
            f"@127.0.0.1:{self.local_postgres_replica_port + i}/{self.local_postgres_database}"
            for i in range(self.local_postgres_replicas)
        )

    @cached_property
    def postgres_url(self) -> str:
        """SQLAlchemy URL (asyncpg driver) of the PostgreSQL the application uses."""
        if self.database_url is not None:
            return _with_asyncpg_driver(self.database_url)
        if self.local_pgbouncer:
            return self._local_postgres_url(LOCAL_APP_ROLE, self.local_pgbouncer_port)
        return self._local_postgres_url(LOCAL_APP_ROLE)

    @cached_property
    def migration_postgres_url(self) -> str:
        """The owner's URL: migrations, grants (and tests that empty every table)."""
        if self.migration_database_url is not None:
            return _with_asyncpg_driver(self.migration_database_url)
        if self.database_url is not None:
            return _with_asyncpg_driver(self.database_url)
        return self._local_postgres_url(LOCAL_PG_USER)

    @cached_property
    def reporting_postgres_url(self) -> str | None:
        """The local stack's read-only reporting role (admin UIs, tests)."""
        return None if self.database_url else self._local_postgres_url(LOCAL_REPORTING_ROLE)

    @property
    def app_role(self) -> str | None:
        return self.database_app_role or (LOCAL_APP_ROLE if self.uses_local_postgres else None)

    @property
    def reporting_role(self) -> str | None:
        if self.database_reporting_role:
            return self.database_reporting_role
        return LOCAL_REPORTING_ROLE if self.uses_local_postgres else None

    @property
    def postgres_ca_file(self) -> Path | None:
        if self.database_sslrootcert is not None:
            return self.database_sslrootcert
        return self.local_tls_dir / "ca.pem" if self.uses_local_postgres else None

    @property
    def mongo_ca_file(self) -> Path | None:
        if self.mongodb_tls_ca_file is not None:
            return self.mongodb_tls_ca_file
        if not self.uses_local_mongodb or not self.local_database_tls:
            return None
        return self.local_tls_dir / "ca.pem"

    @cached_property
    def mongo_url(self) -> str:
        if self.mongodb_url is not None:
            return self.mongodb_url
        tls = "true" if self.local_database_tls else "false"
        if self.ferretdb_backend == "sqlite":  # FerretDB's SQLite backend has no users
            return f"mongodb://127.0.0.1:{self.local_mongodb_port}/?tls={tls}"
        # FerretDB 1.x authenticates with SASL PLAIN only (sent inside TLS), against the
        # PostgreSQL role of that name.
        return (
            f"mongodb://{LOCAL_MONGO_USER}:{self.local_password(LOCAL_MONGO_USER)}"
            f"@127.0.0.1:{self.local_mongodb_port}/?tls={tls}&authMechanism=PLAIN"
            "&authSource=%24external"
        )


def _with_asyncpg_driver(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _generated_secret(path: Path, make: Callable[[], str] | None = None) -> str:
    """A random key made once and kept (mode 600) where only this machine's stack reads it.

    Written to a temporary file and linked into place, so API workers starting together agree
    on one key and none reads a half-written file. Printed nowhere."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(make() if make else secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text().strip()


def get_settings() -> Settings:
    return Settings()


def export_to_workers(name: str, value: str | None) -> None:
    """Set (None: remove) a variable of the environment that the processes started from here
    inherit: uvicorn's workers build their Settings from it, and prometheus-client reads its
    directory from it when imported. The one place that writes the environment, as Settings is
    the one that reads it."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
