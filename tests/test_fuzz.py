"""A property-based fuzzer over the whole OpenAPI (schemathesis): every operation, as an
administrator and as a student, with valid and invalid inputs, against a served API on its own
databases. No input may be a server error, and every answer must be documented: its status
code, its media type and its body's schema.

Operations that would end the caller's own session (logout, logout everywhere, a password
change) run with a throwaway account each time, so the run does not lock itself out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from oneenglish.app import create_app
from oneenglish.cli import run_migrations
from oneenglish.db import mongo, postgres
from oneenglish.settings import Settings
from oneenglish.stack.manager import Stack
from tests.conftest import make_settings, per_worker
from tests.factories import PASSWORD
from tests.processes import ApiProcess

pytestmark = pytest.mark.fuzz

FUZZ_DATABASE = per_worker("oneenglish_fuzz")
ADMIN_EMAIL = "fuzz-admin@example.com"
EXAMPLES_PER_OPERATION = 12
SELF_ENDING = {("POST", "/api/auth/logout"), ("POST", "/api/auth/logout-all")}
SELF_ENDING |= {("POST", "/api/auth/change-password")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Caller:
    api: ApiProcess
    role: str
    admin_headers: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)

    def login(self, email: str) -> dict[str, str]:
        response = httpx.post(
            f"{self.api.url}/api/auth/login",
            json={"email": email, "password": PASSWORD},
            timeout=30,
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def new_account(self) -> dict[str, str]:
        tag = uuid.uuid4().hex[:10]
        email = f"fuzz_{self.role}_{tag}@example.com"
        created = httpx.post(
            f"{self.api.url}/api/users",
            headers=self.admin_headers,
            json={
                "email": email,
                "username": f"fuzz_{tag}",
                "password": PASSWORD,
                "roles": [self.role],
            },
            timeout=30,
        )
        created.raise_for_status()
        return self.login(email)


def _empty(settings_: Settings) -> None:
    """The fuzz databases as migrations leave them (earlier runs' data gone)."""

    async def empty() -> None:
        engine = postgres.create_engine(settings_, url=settings_.migration_postgres_url)
        try:
            async with engine.begin() as conn:
                tables = (
                    await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename NOT IN ('alembic_version', 'roles', 'permissions', "
                            "'role_permissions')"
                        )
                    )
                ).scalars()
                names = ", ".join(f'"{t}"' for t in tables)
                await conn.execute(text(f"TRUNCATE {names} CASCADE"))
        finally:
            await engine.dispose()
        client = mongo.create_client(settings_)
        try:
            await client.drop_database(settings_.mongodb_database)
        finally:
            await client.close()

    asyncio.run(empty())


@pytest.fixture(scope="module")
def fuzz_api(stack: Stack, settings: Settings) -> Iterator[ApiProcess]:
    own = make_settings(
        "test",
        settings.local_postgres_port,
        settings.local_mongodb_port,
        local_postgres_database=FUZZ_DATABASE,
        mongodb_database=FUZZ_DATABASE,
    )
    Stack(own, durable=False).up()  # the servers run already; this creates the database
    run_migrations(own)
    _empty(own)
    api = ApiProcess(
        own,
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        # The fuzzer's failed logins would otherwise make this address wait before the
        # throwaway accounts may log in (that the throttle works is tested elsewhere).
        login_max_failures_per_ip=100_000,
        login_free_failures_per_client=1000,
    )
    api.start()
    try:
        asyncio.run(api.wait_ready())
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="module")
def admin(fuzz_api: ApiProcess) -> Caller:
    caller = Caller(fuzz_api, "admin", {})
    caller.admin_headers = caller.headers = caller.login(ADMIN_EMAIL)
    return caller


@pytest.fixture(scope="module")
def student(fuzz_api: ApiProcess, admin: Caller) -> Caller:
    caller = Caller(fuzz_api, "student", admin.admin_headers)
    caller.headers = caller.new_account()
    return caller


def _load_schema() -> Any:
    """The OpenAPI document the served API publishes (the same code builds both)."""
    loaded = schemathesis.openapi.from_dict(create_app(make_settings("fuzz", 1, 1)).openapi())
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
    )
    return loaded


schema = _load_schema()


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def call(case: schemathesis.Case[Any], caller: Caller) -> None:
    headers = caller.headers
    if (case.method.upper(), case.path) in SELF_ENDING:
        headers = caller.new_account()
    case.call_and_validate(base_url=caller.api.url, headers=headers, checks=CHECKS, timeout=30)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_an_administrator_is_a_server_error_or_undocumented(
    case: schemathesis.Case[Any], admin: Caller
) -> None:
    call(case, admin)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_a_student_is_a_server_error_or_undocumented(
    case: schemathesis.Case[Any], student: Caller
) -> None:
    call(case, student)
