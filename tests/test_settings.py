from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from oneenglish.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
MASTER_KEY = base64.b64encode(bytes(range(96))).decode()


def test_env_example_lists_every_setting() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    assert {name.upper() for name in Settings.model_fields} == documented


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")


def test_passwords_are_hashed_at_rfc_9106s_cost_and_production_refuses_less_than_owasps() -> None:
    defaults = Settings(_env_file=None)
    assert (defaults.password_hash_time_cost, defaults.password_hash_memory_kib) == (3, 65536)
    secret = "s" * 40
    Settings(
        _env_file=None,
        environment="production",
        secret_key=secret,
        field_encryption_master_key=MASTER_KEY,
    )
    for time_cost, memory_kib in ((1, 65536), (3, 16 * 1024)):
        with pytest.raises(ValidationError, match="PASSWORD_HASH"):
            Settings(
                _env_file=None,
                environment="production",
                secret_key=secret,
                field_encryption_master_key=MASTER_KEY,
                password_hash_time_cost=time_cost,
                password_hash_memory_kib=memory_kib,
            )


def test_admin_email_and_password_come_together() -> None:
    with pytest.raises(ValidationError, match="ADMIN_EMAIL"):
        Settings(_env_file=None, admin_email="a@example.com")


def test_a_short_secret_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, secret_key="short")


def test_without_a_secret_development_generates_one_key_and_keeps_it(tmp_path: Path) -> None:
    first = Settings(_env_file=None, data_dir=tmp_path)
    second = Settings(_env_file=None, data_dir=tmp_path)
    other = Settings(_env_file=None, data_dir=tmp_path / "elsewhere")
    assert len(first.signing_key) >= 32
    assert first.signing_key == second.signing_key
    assert other.signing_key != first.signing_key
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_list_settings_read_comma_separated_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", '["https://a.example"]')
    settings = Settings(_env_file=None)
    assert settings.forwarded_allow_ips == ["10.0.0.1", "10.0.0.0/8"]
    assert settings.cors_allow_origins == ["https://a.example"]


def test_the_dockerfile_does_not_run_in_development_mode() -> None:
    dockerfile = (ENV_EXAMPLE.parent / "Dockerfile").read_text()
    assert re.search(r"^ENV [^\n]*(\\\n[^\n]*)*ENVIRONMENT=production", dockerfile, re.M)


@pytest.mark.parametrize("content", [None, "not a certificate"])
def test_a_missing_or_broken_ca_file_is_refused_with_its_name(
    tmp_path: Path, content: str | None
) -> None:
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_text(content)
    for field in ("database_sslrootcert", "mongodb_tls_ca_file"):
        with pytest.raises(ValidationError, match=field):
            Settings(_env_file=None, **{field: ca})  # type: ignore[arg-type]


def test_the_command_line_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from oneenglish.cli import main; main()", "stack", "status"],
        env={**os.environ, "DATABASE_SSLROOTCERT": str(tmp_path / "missing.pem")},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "oneenglish: invalid setting DATABASE_SSLROOTCERT: Path does not point to a file"
    ]


def test_production_refuses_to_start_without_a_field_encryption_master_key() -> None:
    with pytest.raises(ValidationError, match="FIELD_ENCRYPTION_MASTER_KEY must be set"):
        Settings(_env_file=None, environment="production", secret_key="s" * 40)


@pytest.mark.parametrize("key", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_master_key_that_is_not_96_bytes_of_base64_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="field_encryption_master_key"):
        Settings(_env_file=None, field_encryption_master_key=key)


def test_a_pooler_needs_a_direct_url_for_listen_unless_redis_carries_the_fan_out() -> None:
    url = "postgresql://app:pw@bouncer:6432/db"
    with pytest.raises(ValidationError, match="DATABASE_DIRECT_URL"):
        Settings(_env_file=None, database_url=url, database_pooler="pgbouncer")
    direct = Settings(
        _env_file=None,
        database_url=url,
        database_pooler="pgbouncer",
        database_direct_url="postgresql://app:pw@db:5432/db",
    )
    assert direct.pooled
    assert direct.postgres_direct_url == "postgresql+asyncpg://app:pw@db:5432/db"
    with_redis = Settings(
        _env_file=None, database_url=url, database_pooler="pgbouncer", redis_url="rediss://r:6379/0"
    )
    assert with_redis.pooled


def test_the_local_pgbouncer_takes_the_applications_connections_not_listen(
    tmp_path: Path,
) -> None:
    local = Settings(_env_file=None, data_dir=tmp_path, local_pgbouncer=True)
    assert local.pooled
    assert f":{local.local_pgbouncer_port}/" in local.postgres_url
    assert f":{local.local_postgres_port}/" in local.postgres_direct_url
    assert f":{local.local_postgres_port}/" in local.migration_postgres_url
