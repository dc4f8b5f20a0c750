"""WebSockets on two real API processes sharing one stack: what one stores reaches sockets held
by the other, reconnects miss nothing, and the socket refuses what REST refuses."""

from __future__ import annotations

import asyncio
import contextlib
import socket as stdlib_socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from oneenglish.settings import Settings
from tests.factories import TestUser, enroll, logged_in, make_course
from tests.processes import ApiProcess, running

PROTOCOL = "oneenglish.v1"


@pytest.fixture(scope="module", params=["postgresql", "redis"])
async def two_apis(
    request: pytest.FixtureRequest, migrated: Settings
) -> AsyncIterator[tuple[ApiProcess, ApiProcess]]:
    """Two API processes, their fan-out through LISTEN/NOTIFY or through the stack's Redis."""
    fanned = request.getfixturevalue("redis_settings") if request.param == "redis" else migrated
    # The Redis sweep as rare as it may be: what these tests receive was announced.
    apis = (
        ApiProcess(fanned, realtime_session_check_seconds=0.5, realtime_sweep_seconds=60),
        ApiProcess(fanned, realtime_sweep_seconds=60),
    )
    async with running(*apis):
        yield apis


def ws_url(api: ApiProcess) -> str:
    return api.url.replace("http://", "ws://") + "/api/ws"


@contextlib.asynccontextmanager
async def socket(
    api: ApiProcess, user: TestUser, last_event_id: int | None = None
) -> AsyncIterator[ClientConnection]:
    """A socket authenticated by its first frame, past its `ready` frame."""
    async with connect(ws_url(api), subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(
            orjson.dumps(
                {"type": "auth", "token": user.access_token, "last_event_id": last_event_id}
            ).decode()
        )
        ready = await next_frame(ws)
        assert ready["type"] == "ready", ready
        yield ws


async def next_frame(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
    return frame


async def frames_until(
    ws: ClientConnection, kind: str, timeout: float = 10
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first frame of `kind`, and every frame before it."""
    seen: list[dict[str, Any]] = []
    while True:
        frame = await next_frame(ws, timeout)
        if frame["type"] == kind:
            return frame, seen
        seen.append(frame)


async def collect(ws: ClientConnection, *kinds: str) -> dict[str, dict[str, Any]]:
    """The first frame of each of `kinds`, whatever order they come in."""
    found: dict[str, dict[str, Any]] = {}
    while set(kinds) - set(found):
        frame = await next_frame(ws)
        found.setdefault(frame["type"], frame)
    return found


async def classmates(app: FastAPI, client: httpx.AsyncClient) -> tuple[TestUser, TestUser, str]:
    host = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, host)
    alice, bob = await logged_in(app, client), await logged_in(app, client)
    for learner in (alice, bob):
        await enroll(client, learner, course["id"])
    return alice, bob, str(course["id"])


async def post_message(api: ApiProcess, sender: TestUser, to: TestUser, text: str) -> Any:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        response = await http.post(
            f"/api/chat/direct/{to.id}/messages", headers=sender.headers, json={"message": text}
        )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_message_sent_through_one_process_reaches_a_socket_on_the_other(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, second = two_apis
    alice, bob, _ = await classmates(app, client)
    async with socket(second, bob) as ws:
        sent = await post_message(first, alice, bob, "Hello from the other process")

        got = await collect(ws, "message.created", "notification.created")

    event, notification = got["message.created"], got["notification.created"]
    assert event["data"] == sent  # the REST shape
    assert event["stream"] == "user"
    assert notification["data"]["notification"]["type"] == "direct_message"
    assert notification["data"]["unread_count"] == 2  # with "You are enrolled"


async def test_a_reconnect_with_the_last_event_id_gets_exactly_what_it_missed_once(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, second = two_apis
    alice, bob, _ = await classmates(app, client)
    async with socket(second, bob) as ws:
        await post_message(first, alice, bob, "one")
        seen = await frames_through_notification_of(ws, "one")
    last = max(frame["id"] for frame in seen)
    for text in ("two", "three"):
        await post_message(first, alice, bob, text)

    async with socket(first, bob, last_event_id=last) as ws:
        replayed = await drain(ws)

    # Whatever else was published after `last` (a late "You are enrolled" is allowed), the
    # replay holds each missed event once, in order, and nothing seen before.
    ids = [f["id"] for f in replayed]
    assert ids == sorted(set(ids))
    assert min(ids) > last
    messages = [f["data"]["message"] for f in replayed if f["type"] == "message.created"]
    assert messages == ["two", "three"]
    notified = [notification_text(f) for f in replayed if f["type"] == "notification.created"]
    assert [text for text in notified if text in ("one", "two", "three")] == ["two", "three"]


def notification_text(frame: dict[str, Any]) -> Any:
    return frame["data"]["notification"]["message"]


async def frames_through_notification_of(ws: ClientConnection, text: str) -> list[dict[str, Any]]:
    """Every frame up to both the message `text` and the notification about it."""
    seen: list[dict[str, Any]] = []
    message = notified = False
    while not (message and notified):
        frame = await next_frame(ws)
        seen.append(frame)
        message |= frame["type"] == "message.created" and frame["data"]["message"] == text
        notified |= frame["type"] == "notification.created" and notification_text(frame) == text
    return seen


async def drain(ws: ClientConnection, quiet: float = 1.5) -> list[dict[str, Any]]:
    """Every frame until the socket has been quiet for `quiet` seconds."""
    frames: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        while True:
            frames.append(await next_frame(ws, timeout=quiet))
    return frames


async def test_a_logged_out_session_closes_its_socket_within_seconds(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, _ = two_apis
    user = await logged_in(app, client)
    async with socket(first, user) as ws:
        out = await client.post("/api/auth/logout", headers=user.headers)
        assert out.status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_a_learner_cannot_subscribe_to_a_room_they_are_not_in(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, second = two_apis
    alice, bob, course_id = await classmates(app, client)
    stranger = await logged_in(app, client)
    async with socket(first, stranger) as ws:
        await ws.send(orjson.dumps({"type": "subscribe", "room": course_id}).decode())
        refused = await next_frame(ws)
    assert refused["type"] == "error"
    assert refused["status"] == 403

    async with socket(first, bob) as ws:
        await ws.send(orjson.dumps({"type": "subscribe", "room": course_id}).decode())
        await frames_until(ws, "subscribed")
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            posted = await http.post(
                f"/api/chat/rooms/{course_id}/messages",
                headers=alice.headers,
                json={"message": "Hi class"},
            )
            assert posted.status_code == 201, posted.text
        event, _ = await frames_until(ws, "message.created")
    assert event["stream"] == f"room:{course_id}"
    assert event["data"]["message"] == "Hi class"


async def test_a_message_sent_over_the_socket_is_acknowledged_once_and_delivered(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, second = two_apis
    alice, bob, _ = await classmates(app, client)
    ref = uuid.uuid4().hex
    send = {
        "type": "message.send",
        "ref": ref,
        "to": str(bob.id),
        "message": {"message": "Over the socket"},
    }
    async with socket(second, bob) as bob_ws, socket(first, alice) as alice_ws:
        await alice_ws.send(orjson.dumps(send).decode())
        ack, _ = await frames_until(alice_ws, "ack")
        await alice_ws.send(orjson.dumps(send).decode())  # the ack was "lost": resent
        again, _ = await frames_until(alice_ws, "ack")
        received, _ = await frames_until(bob_ws, "message.created")

    assert ack["ref"] == ref
    assert again["data"]["id"] == ack["data"]["id"]
    assert received["data"]["id"] == ack["data"]["id"]
    page = await client.get(f"/api/chat/direct/{alice.id}/messages", headers=bob.headers)
    assert [m["message"] for m in page.json()["items"]] == ["Over the socket"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "malformed"),
        ('{"type": "dance"}', "unknown-type"),
        ('{"type": "subscribe", "room": "nope"}', "validation-failed"),
        ('{"type": "message.send", "ref": "r1", "message": {"message": "x"}}', "validation-failed"),
    ],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_up(
    app: FastAPI,
    client: httpx.AsyncClient,
    two_apis: tuple[ApiProcess, ApiProcess],
    raw: str,
    problem: str,
) -> None:
    first, _ = two_apis
    user = await logged_in(app, client)
    async with socket(first, user) as ws:
        await ws.send(raw)
        error = await next_frame(ws)
        await ws.send('{"type": "ping"}')
        pong = await next_frame(ws)
    assert error["type"] == "error"
    assert error["problem"] == problem
    assert pong["type"] == "pong"


async def test_an_oversized_frame_closes_the_socket_and_the_server_stays_healthy(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, _ = two_apis
    user = await logged_in(app, client)
    async with socket(first, user) as ws:
        await ws.send('{"type": "ping", "pad": "' + "x" * 70_000 + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    async with httpx.AsyncClient(base_url=first.url, timeout=10) as http:
        assert (await http.get("/health")).status_code == 200


async def test_a_socket_without_authentication_is_closed(
    two_apis: tuple[ApiProcess, ApiProcess],
) -> None:
    first, _ = two_apis
    async with connect(ws_url(first)) as ws:
        await ws.send('{"type": "ping"}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_the_token_can_come_in_the_subprotocol_header(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, _ = two_apis
    user = await logged_in(app, client)
    protocols = [PROTOCOL, f"bearer.{user.access_token}"]
    async with connect(ws_url(first), subprotocols=protocols) as ws:  # type: ignore[arg-type]
        ready = await next_frame(ws)
        assert ws.subprotocol == PROTOCOL
    assert ready["type"] == "ready"
    assert ready["user_id"] == str(user.id)


async def test_a_plain_get_of_the_socket_path_is_a_426_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/ws")
    assert response.status_code == 426
    assert response.headers["content-type"].startswith("application/problem+json")


async def _frames(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [await next_frame(ws, timeout=30) for _ in range(count)]


async def test_an_event_stored_but_never_announced_still_reaches_the_socket(
    app: FastAPI,
    client: httpx.AsyncClient,
    two_apis: tuple[ApiProcess, ApiProcess],
    request: pytest.FixtureRequest,
) -> None:
    """What a process that died between its commit and its announcement leaves behind: the
    event in realtime_events, no pointer. With Redis the sweep brings it on its own; with
    either fan-out the stream's next event brings it first, in order."""
    first, second = two_apis
    alice, bob, _ = await classmates(app, client)
    redis = second.env["LOCAL_REDIS"] == "true"
    sweeping = (
        ApiProcess(request.getfixturevalue("redis_settings"), realtime_sweep_seconds=0.5)
        if redis
        else None
    )
    if sweeping is not None:
        sweeping.start()
        await sweeping.wait_ready()
    try:
        async with socket(sweeping or second, bob) as ws:
            await drain(ws, quiet=1.0)
            orphan = await _store_unannounced(app, bob)
            if sweeping is not None:
                frame = await next_frame(ws, timeout=5)  # its sweep, every 0.5 s
                assert frame["id"] == orphan
                assert frame["data"] == {"orphan": True}
            else:
                sent = await post_message(first, alice, bob, "after the orphan")
                frames = await frames_through_notification_of(ws, "after the orphan")
                ids = [f["id"] for f in frames]
                assert ids[0] == orphan
                assert ids == sorted(ids)
                assert frames[0]["data"] == {"orphan": True}
                assert any(f["data"] == sent for f in frames if f["type"] == "message.created")
    finally:
        if sweeping is not None:
            sweeping.stop()


async def _store_unannounced(app: FastAPI, user: TestUser) -> int:
    from oneenglish.db import rls
    from oneenglish.realtime import repository

    with rls.system():
        async with app.state.sessionmaker() as db:
            event_id = await repository.publish(
                db,
                f"u:{user.id}",
                uuid.UUID(str(user.id)),
                None,
                "message.updated",
                orjson.dumps({"orphan": True}).decode(),
                notify=False,
            )
            await db.commit()
    assert event_id is not None
    return event_id


async def test_a_slow_consumer_is_cut_off_with_resync_and_the_others_get_everything(
    app: FastAPI, client: httpx.AsyncClient, migrated: Settings
) -> None:
    from oneenglish.db import rls
    from oneenglish.realtime import service as realtime
    from oneenglish.realtime.service import Stream

    api = ApiProcess(migrated, realtime_queue_size=32)
    api.start()
    try:
        await api.wait_ready()
        user = await logged_in(app, client)
        count, padding = 1200, "x" * 8000
        # The slow client reads nothing: its library holds one frame, then stops reading, and
        # its socket's receive buffer is small, so the server's send buffer (at most 4 MiB on
        # Linux) fills and then its queue: ~10 MB of events go its way.
        raw = stdlib_socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM)
        raw.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_RCVBUF, 4096)  # before connect
        raw.connect(("127.0.0.1", api.port))
        async with (
            # No permessage-deflate: the padding would compress to nothing.
            connect(ws_url(api), max_queue=1, sock=raw, compression=None) as slow,
            socket(api, user) as fast,
        ):
            await slow.send(orjson.dumps({"type": "auth", "token": user.access_token}).decode())
            # The fast client reads as the events come.
            reading = asyncio.create_task(_frames(fast, count))
            with rls.system():
                for batch in range(count // 50):
                    async with app.state.sessionmaker() as db:
                        for n in range(50):
                            await realtime.publish(
                                db,
                                Stream.of_user(uuid.UUID(str(user.id))),
                                "message.created",
                                {"n": batch * 50 + n, "padding": padding},
                            )
                        await db.commit()
            received = await reading
            code, buffered = None, 0
            for _ in range(count + 10):  # what it buffered, then the close
                try:
                    await asyncio.wait_for(slow.recv(), 30)
                    buffered += 1
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    break
                except TimeoutError:
                    raise AssertionError(f"not closed after {buffered} frames") from None
    finally:
        api.stop()
    assert [f["data"]["n"] for f in received] == list(range(count))
    assert code == 4409


async def test_an_event_notification_reaches_the_socket(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, _ = two_apis
    host = await logged_in(app, client, roles=("teacher",))
    course = await make_course(client, host)
    learner = await logged_in(app, client)
    async with (
        socket(first, learner) as ws,
        # Through an API process: its relay (of its fan-out) publishes the notification.
        httpx.AsyncClient(base_url=first.url, timeout=30) as http,
    ):
        await enroll(http, learner, course["id"])  # its notification comes from the relay
        notification, _ = await frames_until(ws, "notification.created", timeout=20)
    assert notification["data"]["notification"]["type"] == "enrolled"
    assert notification["data"]["unread_count"] == 1


async def test_an_erased_users_socket_closes(
    app: FastAPI, client: httpx.AsyncClient, two_apis: tuple[ApiProcess, ApiProcess]
) -> None:
    first, _ = two_apis
    admin = await logged_in(app, client, roles=("admin",))
    user = await logged_in(app, client)
    async with socket(first, user) as ws:
        erased = await client.delete(f"/api/users/{user.id}", headers=admin.headers)
        assert erased.status_code == 204, erased.text
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
