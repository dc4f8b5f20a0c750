"""`/api/ws`: the WebSocket protocol (README "Real time"). Frames are parsed here; what they do
is the services' and workflows' (sending a message is the same workflow as `POST …/messages`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import WebSocket, status
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocketDisconnect

from oneenglish.auth import service as auth
from oneenglish.chat.schemas import MAX_REQUEST_BYTES as MAX_BODY
from oneenglish.core.errors import DomainError, Forbidden, NotFound, Replay, UpgradeRequired
from oneenglish.core.logging import get_logger
from oneenglish.core.principal import Principal
from oneenglish.core.problems import database_unavailable
from oneenglish.core.routing import ApiRouter, unit_of_work
from oneenglish.core.security import InvalidToken, decode_access_token
from oneenglish.idempotency.service import IdempotentRequest
from oneenglish.realtime import service as realtime
from oneenglish.realtime.hub import (
    AUTH_TIMEOUT,
    TOO_BIG,
    UNAUTHORIZED,
    Connection,
    Hub,
    frame,
)
from oneenglish.realtime.schemas import (
    AuthFrame,
    ClientFrame,
    PingFrame,
    SendFrame,
    SubscribeFrame,
    TypingFrame,
    UnsubscribeFrame,
)
from oneenglish.realtime.service import Stream
from oneenglish.settings import Settings
from oneenglish.views.chat import ensure_may_message, ensure_room_member
from oneenglish.workflows import chat as chat_flows

log = get_logger("oneenglish.realtime")
router = ApiRouter(tags=["realtime"])

PROTOCOL = "oneenglish.v1"
BEARER = "bearer."
TYPING_EVERY_SECONDS = 2.0
FRAMES: TypeAdapter[Any] = TypeAdapter(ClientFrame)
KNOWN_TYPES = {"auth", "subscribe", "unsubscribe", "message.send", "typing", "ping"}
HANDSHAKE = f"""Open a WebSocket to this path (`ws://…/api/ws`, `wss://` behind TLS).

**Authenticate** with the access token either in `Sec-WebSocket-Protocol`, offered as
`{PROTOCOL}, {BEARER}<access token>` (the server answers with `{PROTOCOL}`), or in the first
frame, within 10 s: `{{"type": "auth", "token": "<access token>", "last_event_id": 41}}`.
Never in the URL, which lands in logs. The server then sends `{{"type": "ready", …}}`.

**Events** come as `{{"type", "id", "stream", "at", "data"}}`: `message.created`,
`message.updated`, `message.deleted`, `notification.created` (with `unread_count`),
`achievement.awarded`; `data` has the REST shapes. `id` increases within a `stream` (`user`,
or `room:<course id>`): reconnect with the last one seen (`last_event_id`) to get exactly what
was missed; a `resync` frame says to reload through REST instead. `typing` frames have no id.

**Client frames**: `subscribe` / `unsubscribe` a course room (`room`, and `last_event_id`),
`message.send` (`ref`: an idempotency key, `to` a user or `room`, `message` as `POST
…/messages` takes it; answered by `ack` with the stored message, or `error`), `typing` (`to`),
`ping`, and `auth` with a fresh token before the current one expires.

**Errors** are `{{"type": "error", "status", "problem", "detail", "ref"}}` frames; the socket
stays open. **Close codes**: 4401 token expired or session ended (logout, password change,
deactivation, erasure), 4403 not allowed, 4408 no authentication in time, 4409 too far behind
(reload through REST, then reconnect), 1009 a frame over {MAX_BODY} bytes."""


@router.get(
    "/api/ws",
    summary="Real-time events and chat over a WebSocket (the handshake)",
    description=HANDSHAKE,
    responses={426: {"description": "A plain GET: this path speaks WebSocket only"}},
)
async def handshake() -> None:
    raise UpgradeRequired("This path speaks WebSocket only: open it with an Upgrade handshake")


def _token_offered(websocket: WebSocket) -> tuple[str | None, bool]:
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    token = next((p[len(BEARER) :] for p in offered if p.startswith(BEARER)), None)
    return token, PROTOCOL in offered


@router.websocket("/api/ws")
async def socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    hub: Hub = state.realtime_hub
    settings: Settings = state.settings
    token, speaks = _token_offered(websocket)
    await websocket.accept(subprotocol=PROTOCOL if speaks else None)
    after: int | None = None
    if token is None:
        first = await _first_frame(websocket, settings)
        if first is None:
            return
        token, after = first.token, first.last_event_id
    principal = await _authenticate(websocket, token)
    if principal is None:
        await websocket.close(UNAUTHORIZED, "invalid or expired access token")
        return
    connection = Connection(
        websocket,
        principal.id,
        principal.session_id,
        token,
        decode_access_token(settings, token).expires_at,
        asyncio.Queue(settings.realtime_queue_size),
    )
    hub.add(connection)
    writer = asyncio.create_task(_write(connection))
    try:
        connection.push(frame("ready", user_id=str(principal.id), protocol=PROTOCOL))
        await hub.follow(connection, Stream.of_user(principal.id), after)
        await _read(connection, hub, websocket)
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(connection)
        writer.cancel()


async def _first_frame(websocket: WebSocket, settings: Settings) -> AuthFrame | None:
    try:
        text = await asyncio.wait_for(
            websocket.receive_text(), settings.realtime_auth_timeout_seconds
        )
    except TimeoutError:
        await websocket.close(AUTH_TIMEOUT, "authenticate within the first seconds")
        return None
    except (WebSocketDisconnect, RuntimeError, KeyError):
        return None
    try:
        parsed = FRAMES.validate_json(text)
    except ValidationError:
        parsed = None
    if not isinstance(parsed, AuthFrame):
        await websocket.close(UNAUTHORIZED, 'the first frame must be {"type": "auth", …}')
        return None
    return parsed


async def _authenticate(websocket: WebSocket, token: str) -> Principal | None:
    state = websocket.app.state
    try:
        async with state.sessionmaker() as db:
            return await auth.authenticate(db, state.settings, token)
    except DomainError:
        return None


async def _write(connection: Connection) -> None:
    try:
        while True:
            await connection.websocket.send_text(await connection.queue.get())
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the socket is gone; the reader ends the connection


async def _read(connection: Connection, hub: Hub, websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = (message.get("bytes") or b"").decode("utf-8", "replace")
        if len(raw.encode()) > MAX_BODY:
            await websocket.close(TOO_BIG, f"frames are at most {MAX_BODY} bytes")
            return
        parsed = _parse(connection, raw)
        if parsed is not None:
            await _handle(connection, hub, parsed)


def _parse(connection: Connection, raw: str) -> Any:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        connection.push(_error(400, "malformed", "A frame is one JSON object"))
        return None
    kind = document.get("type") if isinstance(document, dict) else None
    if kind not in KNOWN_TYPES:
        connection.push(
            _error(400, "unknown-type", f"Unknown frame type {kind!r}; see GET /api/ws")
        )
        return None
    try:
        return FRAMES.validate_python(document)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        ref = document.get("ref") if isinstance(document.get("ref"), str) else None
        connection.push(_error(422, "validation-failed", "The frame is not valid", ref, errors))
        return None


def _error(
    code: int,
    problem: str,
    detail: str,
    ref: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    retry_after: int | str | None = None,
) -> str:
    fields: dict[str, Any] = {"status": code, "problem": problem, "detail": detail}
    if retry_after is not None:
        fields["retry_after"] = int(retry_after)
    if ref is not None:
        fields["ref"] = ref
    if errors:
        fields["errors"] = errors
    return frame("error", **fields)


async def _handle(connection: Connection, hub: Hub, parsed: Any) -> None:
    ref = getattr(parsed, "ref", None)
    try:
        match parsed:
            case PingFrame():
                connection.push(frame("pong"))
            case AuthFrame():
                await _reauthenticate(connection, parsed)
            case SubscribeFrame():
                await _subscribe(connection, hub, parsed)
            case UnsubscribeFrame():
                hub.unfollow(connection, Stream.of_room(parsed.room))
                connection.push(frame("unsubscribed", room=str(parsed.room)))
            case SendFrame():
                await _send(connection, parsed)
            case TypingFrame():
                await _typing(connection, parsed)
    except DomainError as exc:
        wait = exc.headers.get("Retry-After")
        connection.push(_error(exc.status, exc.slug, exc.detail, ref, retry_after=wait))
    except Exception as exc:  # the socket stays up whatever one frame did
        if not database_unavailable(exc):
            log.error("realtime: a frame failed", exc_info=exc)
            connection.push(_error(500, "internal", "The frame failed; it was logged", ref))
            return
        log.warning("realtime: a frame failed for a database", error=type(exc).__name__)
        connection.push(
            _error(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "unavailable",
                "A database is unavailable; whether a message was stored is unknown: resend "
                "it with the same ref",
                ref,
                retry_after=5,
            )
        )


@contextlib.asynccontextmanager
async def _as_caller(connection: Connection) -> AsyncIterator[tuple[Any, Principal]]:
    """One frame's unit of work, as the socket's user (committed if the frame succeeds)."""
    state = connection.websocket.app.state
    async with unit_of_work(state.sessionmaker) as db:
        yield db, await auth.authenticate(db, state.settings, connection.token)


async def _reauthenticate(connection: Connection, parsed: AuthFrame) -> None:
    state = connection.websocket.app.state
    try:
        claims = decode_access_token(state.settings, parsed.token)
    except InvalidToken:
        connection.push(_error(401, "unauthorized", "Invalid or expired access token"))
        return
    if claims.user_id != connection.user_id:
        connection.close_soon(UNAUTHORIZED, "a token of another user")
        return
    async with state.sessionmaker() as db:
        await auth.authenticate(db, state.settings, parsed.token)
    connection.token, connection.session_id = parsed.token, claims.session_id
    connection.expires_at = claims.expires_at
    connection.push(frame("authenticated", expires_at=claims.expires_at.isoformat()))


async def _subscribe(connection: Connection, hub: Hub, parsed: SubscribeFrame) -> None:
    async with _as_caller(connection) as (db, principal):
        try:
            await ensure_room_member(db, principal, parsed.room)
        except NotFound as exc:
            raise Forbidden("You are not in this course's room") from exc
    connection.rooms.add(parsed.room)
    at = await hub.follow(connection, Stream.of_room(parsed.room), parsed.last_event_id)
    connection.push(frame("subscribed", room=str(parsed.room), last_event_id=at))


async def _send(connection: Connection, parsed: SendFrame) -> None:
    """The same workflow as `POST …/messages`: its validation, membership, rate limits; the
    `ref` is its idempotency key, so a resend after a lost ack is answered, not stored again."""
    state = connection.websocket.app.state
    target = f"direct:{parsed.to}" if parsed.to else f"room:{parsed.room}"
    body = f"{target}\n{parsed.message.model_dump_json()}".encode()
    async with _as_caller(connection) as (db, principal):
        scope = f"user:{principal.id}"
        idempotent = IdempotentRequest.of(scope, parsed.ref, "WS", "/api/ws", body)
        try:
            if parsed.to is not None:
                out = await chat_flows.send_direct(
                    db,
                    state.mongo_db,
                    state.settings,
                    principal,
                    parsed.to,
                    parsed.message,
                    idempotent,
                )
            else:
                assert parsed.room is not None
                out = await chat_flows.send_to_room(
                    db,
                    state.mongo_db,
                    state.settings,
                    principal,
                    parsed.room,
                    parsed.message,
                    idempotent,
                )
            data: Any = out.model_dump(mode="json")
        except Replay as replay:
            data = replay.body
    connection.push(frame("ack", ref=parsed.ref, data=data))


async def _typing(connection: Connection, parsed: TypingFrame) -> None:
    """At most one per peer every TYPING_EVERY_SECONDS; the others are dropped quietly."""
    now = time.monotonic()
    if now - connection.typed.get(parsed.to, -TYPING_EVERY_SECONDS) < TYPING_EVERY_SECONDS:
        return
    connection.typed[parsed.to] = now
    state = connection.websocket.app.state
    async with _as_caller(connection) as (db, principal):
        await ensure_may_message(db, state.mongo_db, principal, parsed.to)
        await realtime.signal_typing(db, principal.id, parsed.to)
