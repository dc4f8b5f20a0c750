"""Request context: a request id on every log line and response, and one access log line."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oneenglish.core.context import open_write_ledger, read_after
from oneenglish.core.logging import get_logger

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")

log = get_logger("oneenglish.access")


class RequestContextMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware): no extra task or body buffering per request."""

    def __init__(self, app: ASGIApp, read_after_seconds: int = 0) -> None:
        self.app = app
        # How long a read-your-writes position is worth keeping (db/replicas.py).
        self.read_after_seconds = read_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        open_write_ledger()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                position = read_after()
                if position is not None:
                    headers += _read_after_headers(position, self.read_after_seconds)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


def _read_after_headers(position: str, max_age: int) -> list[tuple[bytes, bytes]]:
    """The primary's WAL position after this request's writes: the client's next reads use a
    replica only once it has replayed that far (db/replicas.py)."""
    value = position.encode()
    cookie = b"oe_read_after=%s; Max-Age=%d; Path=/; HttpOnly; SameSite=Lax" % (value, max_age)
    return [(b"x-read-after", value), (b"set-cookie", cookie)]


async def call_timed(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    done: Callable[[int, float], None],
) -> None:
    """Call `app`, then `done(status, seconds)`: the response's status (500 when an exception
    escaped before one was sent: the outermost error layer turns it into one) and the time
    from the call to the last byte. For the layers that count requests (metrics, activity)."""
    started = time.perf_counter()
    status = 500

    async def send_watching_status(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, send_watching_status)
    finally:
        done(status, time.perf_counter() - started)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.match(value):
            return str(value.decode())
    return None


class InputGuardMiddleware:
    """Every request's input is checked here, once, before any route sees it.

    - Bodies over a limit are a 413, whether they declare their length or arrive chunked
      (the limit is the default, or for paths under a prefix in `limits`, that prefix's).
    - Text no database can store is a 422, for every body and query string alike: a NUL
      character (PostgreSQL text cannot hold one; FerretDB refuses it), and in JSON a lone
      UTF-16 surrogate (not encodable as UTF-8), NaN or ±Infinity (not JSON; FerretDB closes
      the connection on NaN), or anything else that is not valid JSON in UTF-8.

    Our own rather than FastAPI's `max_body_size`: that one answers in plain text from outside
    our middleware (a chunked body over it came out as a 400), and every error we send has the
    problem+json shape. The body is read whole (FastAPI reads it whole anyway) and handed on
    unchanged; multipart bodies must not contain NUL either. The exception is the paths in
    `streamed` (file uploads): their bytes are binary and go to storage as they arrive, so
    they are not read here; their route enforces its own limit (core/uploads.py)."""

    def __init__(
        self,
        app: ASGIApp,
        default: int,
        limits: dict[str, int] | None = None,
        streamed: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.default = default
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _unstorable_location(scope)
        if problem is not None:
            await _send_invalid(scope, send, *problem)
            return
        if scope["path"] in self.streamed:
            await self.app(scope, receive, send)
            return
        limit = next(
            (n for prefix, n in self.limits if scope["path"].startswith(prefix)), self.default
        )
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(scope, send, limit)
            return
        body, more_messages = await _read_body(receive, limit)
        if body is None:
            await _send_too_large(scope, send, limit)
            return
        invalid = _invalid_body(_header(scope, b"content-type"), body) if body else None
        if invalid is not None:
            await _send_invalid(scope, send, "body", invalid)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await more_messages()

        await self.app(scope, replay, send)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """The whole body, or None once it passes `limit`; then the receive for what follows."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it
            return b"".join(chunks), _first_then(message, receive)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), receive


def _first_then(message: Message, receive: Receive) -> Receive:
    pending = [message]

    async def first_then_receive() -> Message:
        return pending.pop() if pending else await receive()

    return first_then_receive


def _unstorable_location(scope: Scope) -> tuple[str, str] | None:
    if "\x00" in scope["path"]:
        return "path", "The path contains a NUL character"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or (
        b"%00" in query and b"\x00" in unquote_to_bytes(query.replace(b"+", b" "))
    ):
        return "query", "The query string contains a NUL character"
    return None


def _invalid_body(content_type: bytes | None, body: bytes) -> str | None:
    media = (content_type or b"").split(b";")[0].strip().lower()
    if media == b"application/json" or media.endswith(b"+json") or not media:
        if not media and body.lstrip()[:1] not in (b"{", b"["):
            return None  # not JSON, and not claimed to be: the route decides what it takes
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return f"The body is not valid JSON (UTF-8, no lone surrogates, no NaN): {exc}"
        if b"\\u0000" in body and _holds_nul(value):
            return "The body contains a NUL character (\\u0000)"
        return None
    if media == b"application/x-www-form-urlencoded":
        if b"\x00" in body or (
            b"%00" in body and b"\x00" in unquote_to_bytes(body.replace(b"+", b" "))
        ):
            return "The form contains a NUL character"
        return None
    if b"\x00" in body:
        return "The body contains a NUL character"
    return None


def _holds_nul(value: object) -> bool:
    # Iterative: orjson accepts nesting deeper than Python's recursion limit.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


async def _send_problem(scope: Scope, send: Send, status: int, body: dict[str, object]) -> None:
    payload = orjson.dumps(
        {**body, "instance": scope["path"], "request_id": scope.get("state", {}).get("request_id")}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _send_too_large(scope: Scope, send: Send, limit: int) -> None:
    await _send_problem(
        scope,
        send,
        413,
        {
            "type": "https://oneenglish.dev/problems/payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"The request body is larger than the {limit} bytes this endpoint accepts.",
            "limit_bytes": limit,
        },
    )


async def _send_invalid(scope: Scope, send: Send, where: str, message: str) -> None:
    await _send_problem(
        scope,
        send,
        422,
        {
            "type": "https://oneenglish.dev/problems/validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": f"{message}; nothing was changed.",
            "errors": [{"loc": [where], "msg": message, "type": "unstorable_input"}],
        },
    )


# Every response is an API answer (JSON) except the interactive docs, which are HTML that
# loads Swagger UI / ReDoc from the API itself (core/docs.py): they get a policy that lets
# them render from this origin only, everything else one that lets nothing run or frame it.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
    b"style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; "
    b"worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"
)
HSTS = b"max-age=63072000; includeSubDomains"
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


# For the one response built outside this middleware: the 500 of an unhandled error, which
# Starlette's outermost error layer sends (core.problems adds these to it).
SECURITY_HEADERS = {
    **{name.decode(): value.decode() for name, value in _ALWAYS},
    "content-security-policy": API_CSP.decode(),
}


class SecurityHeadersMiddleware:
    """Security headers on every response, errors included; HSTS only when the request came
    over HTTPS (the scheme a trusted proxy reported), since a browser ignores it on plain HTTP
    and an HTTP-only deployment must not pin itself to HTTPS."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...]) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in self.docs_paths else API_CSP
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"server"
                ]
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _ALWAYS if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                if https:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
