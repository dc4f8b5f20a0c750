"""The route class of every endpoint: what all operations share, decided in one place.

- The request owns its PostgreSQL transaction, and this is the one place that commits it:
  once, when the endpoint returns, before the response is sent (so a failed commit is still
  the request's error: a 503 that says the outcome is unknown). An endpoint that raises
  commits nothing; its session rolls back when it closes. Routers and services never commit;
  workflows commit a saga's intent before running its steps (sagas.runner.commit_and_run),
  and a refusal that must leave a trace says so (db.postgres.commit_before_refusing).
- A query parameter the operation does not declare is a 422 (`extra_forbidden`), like an
  unknown body field: a misspelt filter (`?levl=B1`) must not silently return everything.

- Its documented errors: every status it can answer besides success, each a problem+json
  document (core/problems.py), derived from what the operation is (authenticated: 401 and
  403; a path parameter: 404; any input: 422; a body: 413; a database behind it: 503 with
  Retry-After), on top of those its router names (409, 429 …), which get the problem shape
  too. So /docs tells a client what to handle without each route repeating it.

Every router is an `ApiRouter`; tests/core/test_routing.py checks that no route escapes it.
The committing wrapper is polar's `AutoCommitAPIRoute` (server/polar/kit/routing.py) idea,
written for this application."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from fastapi.utils import create_model_field
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.core.context import request_sessions, writes_committed
from oneenglish.core.problems import PROBLEM_MEDIA_TYPE, Problem
from oneenglish.db import replicas


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter an operation reads, through all its dependencies; a Pydantic
    model declared as `Query()` contributes each of its fields (by alias)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(f.alias or name for name, f in model.model_fields.items())
            else:
                names.add(field.alias)
    return frozenset(names)


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the signature through __wrapped__
    async def endpoint_then_commit(*args: Any, **kwargs: Any) -> Any:
        result = await endpoint(*args, **kwargs)
        # The endpoint's sessions and those of its dependencies (authentication's may differ
        # from a read on a replica), each once.
        given = [value for value in kwargs.values() if isinstance(value, AsyncSession)]
        sessions = list(dict.fromkeys([*request_sessions(), *given]))
        for session in sessions:
            if session.in_transaction():
                await session.commit()
        if sessions and writes_committed():
            # With read replicas: where the primary's WAL is now, for the client's next reads.
            await replicas.note_commit_position(sessions[0])
        return result

    return endpoint_then_commit


@contextlib.asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """What an AppRoute does for a request, for work that is not one (a WebSocket frame): a
    session that commits when the block ends without an error, and rolls back otherwise."""
    async with sessionmaker() as db:
        yield db
        if db.in_transaction():
            await db.commit()


def _is_authenticated(dependant: Dependant) -> bool:
    pending = [dependant]
    while pending:
        current = pending.pop()
        if isinstance(current.call, SecurityBase):
            return True
        pending.extend(current.dependencies)
    return False


# `openapi_extra` of an operation that answers without a database (the liveness probe).
NO_DATABASE = {"x-uses-database": False}

_STANDARD_ERRORS = {
    401: "Not authenticated: no token, or an expired, revoked or invalid one",
    403: "Authenticated, but not allowed to do this",
    404: "Nothing with this id, or nothing you may see",
    413: "Request body too large",
    422: "Invalid input: `errors` names each field and what is wrong with it",
    503: "A database is unavailable: retry after `Retry-After` seconds; `outcome` says "
    "whether the change was made (`unchanged`) or cannot be known (`unknown`)",
}


def _error_responses(route: APIRoute) -> dict[int | str, dict[str, Any]]:
    """The problem responses an operation can give (see the module's docstring)."""
    statuses = [422]
    if _is_authenticated(route.dependant):
        statuses += [401, 403]
    if route.dependant.path_params:
        statuses.append(404)
    if route.body_field is not None:
        statuses.append(413)
    if (route.openapi_extra or {}).get("x-uses-database", True):
        statuses.append(503)
    responses: dict[int | str, dict[str, Any]] = {
        status: {"description": _STANDARD_ERRORS[status]} for status in statuses
    }
    for status, given in route.responses.items():
        responses[status] = {**responses.get(status, {}), **given}
    for status, response in responses.items():
        if str(status)[0] in "45" and "content" not in response:
            response.setdefault("model", Problem)
            response["content"] = {PROBLEM_MEDIA_TYPE: {}}
    if 503 in responses:
        responses[503].setdefault(
            "headers", {"Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}}
        )
    return responses


class AppRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _committing(endpoint), **kwargs)
        self.responses = _error_responses(self)
        # FastAPI derived the documented models from the responses given; again, with ours.
        self.response_fields = {
            status: create_model_field(
                name=f"Response_{status}_{self.unique_id}", type_=model, mode="serialization"
            )
            for status, response in self.responses.items()
            if (model := response.get("model")) is not None
        }

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        allowed = declared_query_names(self.dependant)

        async def strict_handler(request: Request) -> Response:
            unknown = [
                (name, value)
                for name, value in request.query_params.multi_items()
                if name not in allowed
            ]
            if unknown:
                raise RequestValidationError(
                    [
                        {
                            "type": "extra_forbidden",
                            "loc": ("query", name),
                            "msg": "Unknown query parameter",
                            "input": value,
                        }
                        for name, value in unknown
                    ]
                )
            return await handler(request)

        return strict_handler


class ApiRouter(APIRouter):
    """An APIRouter whose routes are AppRoutes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=AppRoute, **kwargs)
