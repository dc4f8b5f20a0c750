"""RFC 9457 problem+json: the one shape of every error response."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from pymongo.errors import PyMongoError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from oneenglish.core.context import (
    UnhandledError,
    client_ip,
    principal_id,
    route_template,
    writes_sent,
)
from oneenglish.core.errors import DomainError, Replay
from oneenglish.core.logging import get_logger
from oneenglish.core.middleware import SECURITY_HEADERS
from oneenglish.db import mongo, postgres

UnhandledErrorHook = Callable[[UnhandledError], object]
UNHANDLED_ERROR_HOOK = "unhandled_error_hook"

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://oneenglish.dev/problems/"

log = get_logger("oneenglish.errors")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """Every error response has this shape (RFC 9457), plus the extensions named below."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extensions,
    }
    return Response(
        orjson.dumps(body, default=str),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def database_outage_problem(request: Request, database: str, *, busy: bool = False) -> Response:
    """503 with Retry-After. What it says about the request's changes is what is known: none
    were sent (nothing was changed), or some were and the answer never came (unknown)."""
    cause = "The server is busy" if busy else f"{database} is unavailable"
    if writes_sent():
        detail = (
            f"{cause}, and the request's changes had already been sent: whether they were "
            "saved is unknown. Check before retrying, or retry with the same Idempotency-Key."
        )
        outcome = "unknown"
    else:
        detail = f"{cause}; nothing was changed. Retry shortly."
        outcome = "unchanged"
    return problem_response(
        request,
        503,
        "unavailable",
        "Service unavailable",
        detail,
        headers={"Retry-After": "2" if busy else "5"},
        database=database,
        outcome=outcome,
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    extensions = dict(exc.extensions)
    if isinstance(extensions.get("errors"), list):
        # Every field error has the documented shape (FieldError), whoever raised it: a
        # service's own check names its kind by the problem's slug.
        extensions["errors"] = [
            {"type": exc.slug, **error} if isinstance(error, dict) else error
            for error in extensions["errors"]
        ]
    return problem_response(
        request, exc.status, exc.slug, exc.title, exc.detail, exc.headers, **extensions
    )


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return Response(
        orjson.dumps(exc.body),
        status_code=exc.status,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    return problem_response(
        request,
        422,
        "validation-failed",
        "Validation failed",
        "The request is not valid; see `errors`.",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    if exc.status_code == 404 and detail == phrase:
        detail = f"No resource at {request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    slug = phrase.lower().replace(" ", "-").replace("'", "")
    return problem_response(request, exc.status_code, slug, phrase, detail, exc.headers)


async def _postgres_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if postgres.is_unavailable(exc):
        log.warning("postgresql unavailable", error=str(exc.orig))
        return database_outage_problem(request, "PostgreSQL")
    return await _unhandled(request, exc)


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    # Every connection of this process's pool stayed busy for DB_POOL_TIMEOUT: overload, which
    # a client should meet with a retry later, not a server error.
    log.warning("postgresql pool exhausted", error=str(exc))
    return database_outage_problem(request, "PostgreSQL", busy=True)


async def _mongo_error(request: Request, exc: Exception) -> Response:
    if mongo.is_unavailable(exc):
        log.warning("mongodb unavailable", error=str(exc))
        return database_outage_problem(request, "MongoDB")
    return await _unhandled(request, exc)


async def _connection_error(request: Request, exc: Exception) -> Response:
    # asyncpg raises OSError subclasses (connection refused, reset) before SQLAlchemy wraps them.
    log.warning("database connection failed", error=repr(exc))
    return database_outage_problem(request, "PostgreSQL")


async def _unhandled(request: Request, exc: Exception) -> Response:
    error_id = uuid.uuid4().hex
    log.error("unhandled error", error_id=error_id, exc_info=exc)
    request_id = getattr(request.state, "request_id", None)
    _report_unhandled(request, exc, error_id, request_id)
    # This handler runs outside every middleware of ours, which therefore cannot add headers.
    headers = dict(SECURITY_HEADERS)
    if request_id:
        headers["X-Request-ID"] = request_id
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal server error",
        "An unexpected error occurred. Quote the error_id when reporting it.",
        headers,
        error_id=error_id,
    )


def _report_unhandled(
    request: Request, exc: Exception, error_id: str, request_id: str | None
) -> None:
    """Hand the error to the hook (the error log); nothing it does may change the 500."""
    hook: UnhandledErrorHook | None = getattr(request.app.state, UNHANDLED_ERROR_HOOK, None)
    if hook is None:
        return
    try:
        hook(
            UnhandledError(
                error_id=error_id,
                error=exc,
                user_id=principal_id(request.scope),
                method=request.method,
                path=request.url.path,
                route=route_template(request.scope),
                request_id=request_id,
                ip=client_ip(request.scope),
                user_agent=request.headers.get("user-agent"),
                query=request.query_params.multi_items(),
            )
        )
    except Exception as hook_error:  # the client still gets its 500 with the error_id
        log.error("unhandled error not recorded", error_id=error_id, exc_info=hook_error)


def register_problem_handlers(app: FastAPI, on_unhandled: UnhandledErrorHook | None = None) -> None:
    """`on_unhandled` is told about every unhandled error; it must not block (it runs before
    the 500 is sent) and may not raise (it is guarded anyway)."""
    setattr(app.state, UNHANDLED_ERROR_HOOK, on_unhandled)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(Replay, _replay)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _postgres_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(PyMongoError, _mongo_error)
    app.add_exception_handler(OSError, _connection_error)
    app.add_exception_handler(Exception, _unhandled)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "Client error"},
    "5XX": {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "Server error"},
}


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` is a database failing as a service (what REST answers with a 503), for
    the code that has no HTTP response to give (the WebSocket's frames)."""
    if isinstance(exc, DBAPIError):
        return postgres.is_unavailable(exc)
    if isinstance(exc, PyMongoError):
        return mongo.is_unavailable(exc)
    return isinstance(exc, OSError | TimeoutError | PoolTimeout)
