"""The route class of every endpoint: what all operations share, decided in one place.

- A query parameter the operation does not declare is a 422 (`extra_forbidden`), like an
  unknown body field: a misspelt filter (`?levl=B1`) must not silently return everything.

Every router is an `ApiRouter`; tests/test_input.py checks that no route escapes it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel


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


class StrictRoute(APIRoute):
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
    """An APIRouter whose routes are StrictRoutes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=StrictRoute, **kwargs)
