"""The OpenAPI document is the API's manual: every operation says what it does, shows an example
body, and lists the problem+json errors a client must handle."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from oneenglish.app import ROUTERS, create_app
from oneenglish.settings import Settings


@pytest.fixture(scope="module")
def app_routes() -> list[APIRoute]:
    return [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
    ]


@pytest.fixture(scope="module")
def operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = create_app(Settings()).openapi()
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_has_a_written_summary(app_routes: list[APIRoute]) -> None:
    # FastAPI would make one up from the function's name ("List Courses"): ours are written.
    assert [r.path for r in app_routes if not r.summary] == []


def test_every_error_response_is_a_problem_document(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    for path, method, operation in operations:
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert list(response["content"]) == ["application/problem+json"], (
                    method,
                    path,
                    status,
                )
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


def test_the_errors_an_operation_can_give_are_listed(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    by_key = {(method, path): set(op["responses"]) for path, method, op in operations}
    assert {"401", "403", "404", "413", "422", "503"} <= by_key[
        ("put", "/api/lessons/{lesson_id}/progress")
    ]
    assert {"422", "503"} <= by_key[("get", "/api/courses")]
    assert "503" not in by_key[("get", "/health")]
    assert "409" in by_key[("post", "/api/auth/register")]
    assert "Retry-After" in next(
        op["responses"]["503"]["headers"]
        for path, method, op in operations
        if (method, path) == ("post", "/api/auth/register")
    )


def test_every_json_body_has_an_example_that_the_api_accepts(app_routes: list[APIRoute]) -> None:
    checked = 0
    for route in app_routes:
        bodies = [p.field_info.annotation for p in route.dependant.body_params]
        models = [m for m in bodies if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(models) != 1:
            continue  # the OAuth2 form of the Authorize button: form fields, documented
        model = models[0]
        examples = model.model_json_schema().get("examples")
        assert examples, f"{route.path}: {model.__name__} has no example"
        for example in examples:
            model.model_validate(example)
        checked += 1
    assert checked >= 25
