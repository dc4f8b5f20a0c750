"""The route class of every endpoint: what all operations share, decided in one place.

- The request owns its PostgreSQL transaction, and this is the one place that commits it:
  once, when the endpoint returns, before the response is sent (so a failed commit is still
  the request's error: a 503 that says the outcome is unknown). An endpoint that raises
  commits nothing; its session rolls back when it closes. Routers and services never commit;
  workflows commit a saga's intent before running its steps (sagas.runner.commit_and_run),
  and a refusal that must leave a trace says so (db.postgres.commit_before_refusing).
- A query parameter the operation does not declare is a 422 (`extra_forbidden`), like an
  unknown body field: a misspelt filter (`?levl=B1`) must not silently return everything.

Every router is an `ApiRouter`; tests/core/test_routing.py checks that no route escapes it.
The committing wrapper is polar's `AutoCommitAPIRoute` (server/polar/kit/routing.py) idea,
written for this application."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession


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
        for value in kwargs.values():
            if isinstance(value, AsyncSession) and value.in_transaction():
                await value.commit()
        return result

    return endpoint_then_commit


class AppRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _committing(endpoint), **kwargs)

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
