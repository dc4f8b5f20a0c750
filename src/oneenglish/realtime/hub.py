"""The sockets one API process holds, and how events reach them.

Every process listens for pointers (`<id> <stream>`) to the events other processes commit
(fanout.py: LISTEN/NOTIFY, or Redis). A process with sockets on that stream reads, once for
all of them, the stream's events from the oldest its sockets lack up to the pointer
(PostgreSQL only: delivery of what is stored never waits for MongoDB), and queues their
envelopes on each socket: a pointer that arrives late, or never (with Redis, a process that
died after its commit), leaves no gap, since a stream's ids commit in order. Pointers are
handled in arrival order by one task, so a socket sees a stream's ids in increasing order.
With Redis, every REALTIME_SWEEP_SECONDS the hub also reads each stream's newest stored id and
delivers what its sockets lack, so even the last event of a stream reaches them.

Each socket has a bounded queue and a writer task: a client that does not read fills it and
is closed with 4409 (resync), and nobody else waits for it. A socket that subscribes to a
stream with the last id it saw is replayed what it missed first; events that arrive during
the replay are held and then given in order, each once. If the LISTEN connection drops, the
hub reconnects and replays every socket's streams from their last ids, so nothing is lost
across a PostgreSQL restart either.

Every REALTIME_SESSION_CHECK_SECONDS the hub asks PostgreSQL which of its sockets' sessions
still stand (one query for all of them) and closes the others (4401): a logout, a password
change, a deactivation or an erasure ends a socket within seconds. A socket whose access
token expires is closed at that moment unless it sent a fresh one."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from oneenglish.core.logging import get_logger
from oneenglish.db import rls
from oneenglish.realtime import service
from oneenglish.realtime.fanout import Fanout, Listening, PostgresFanout
from oneenglish.realtime.service import Event, Stream
from oneenglish.settings import Settings

log = get_logger("oneenglish.realtime")

# Close codes (README "Real time"): 4401 the token or session no longer stands; 4403 not
# allowed; 4408 no authentication in time; 4409 too far behind, reload through REST;
# 1009 a frame over the size limit; 1011 the server failed.
UNAUTHORIZED = 4401
FORBIDDEN = 4403
AUTH_TIMEOUT = 4408
RESYNC = 4409
TOO_BIG = 1009
LISTEN_RETRY_SECONDS = 1.0
DELIVERY_BATCH = 500
SWEEP_WINDOW_SECONDS = 10.0  # at least; see _sweep_forever


def frame(kind: str, **fields: Any) -> str:
    return orjson.dumps({"type": kind, **fields}, default=str).decode()


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    user_id: uuid.UUID
    session_id: uuid.UUID
    token: str
    expires_at: datetime
    queue: asyncio.Queue[str]
    last: dict[str, int] = field(default_factory=dict)  # stream key -> last id given
    rooms: set[uuid.UUID] = field(default_factory=set)
    replaying: dict[str, list[Event]] = field(default_factory=dict)
    typed: dict[uuid.UUID, float] = field(default_factory=dict)  # peer -> last typing signal
    closing: bool = False

    def push(self, text: str) -> bool:
        """Queue a frame; False (and the socket is being closed) if the client is too slow."""
        if self.closing:
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.close_soon(RESYNC, "too far behind: reload through REST and reconnect")
            return False
        return True

    def give(self, event: Event) -> None:
        key = event.stream.key
        if key in self.replaying:
            self.replaying[key].append(event)
            return
        if event.id <= self.last.get(key, 0):
            return  # given already (by the replay)
        self.last[key] = event.id
        self.push(event.envelope())

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        asyncio.get_running_loop().create_task(_close(self.websocket, code, reason))


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # it may be gone already
        await websocket.close(code=code, reason=reason)


class Hub:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        fanout: Fanout | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.fanout = fanout or PostgresFanout(settings)
        self.connections: set[Connection] = set()
        self.by_stream: dict[str, set[Connection]] = defaultdict(set)
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._listening = asyncio.Event()

    # -- sockets -----------------------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)

    def remove(self, connection: Connection) -> None:
        self.connections.discard(connection)
        for key in list(connection.last) + list(connection.replaying):
            self._unwatch(key, connection)

    def _unwatch(self, key: str, connection: Connection) -> None:
        watchers = self.by_stream.get(key)
        if watchers is not None:
            watchers.discard(connection)
            if not watchers:
                del self.by_stream[key]

    async def follow(self, connection: Connection, stream: Stream, after_id: int | None) -> int:
        """Give the socket `stream`'s events from now on, and first those after `after_id`
        (None: only from now on). Returns the id it is at."""
        key = stream.key
        if after_id is None:
            # "Now" is read before the socket watches the stream, and what commits after it
            # is replayed like any missed event: read while watching, an event committed in
            # between would count as seen and never be given.
            with rls.system():
                async with self.sessionmaker() as db:
                    after_id = await service.last_id(db, stream)
        connection.replaying[key] = []
        self.by_stream[key].add(connection)
        try:
            with rls.system():
                async with self.sessionmaker() as db:
                    missed = await service.missed(
                        db, stream, after_id, self.settings.realtime_replay_limit
                    )
        except BaseException:
            connection.replaying.pop(key, None)
            self._unwatch(key, connection)
            raise
        held = connection.replaying.pop(key)
        if missed.resync:
            connection.push(frame("resync", stream=stream.name, last_event_id=missed.last_id))
        connection.last[key] = max(connection.last.get(key, 0), after_id)
        for event in missed.events:
            connection.give(event)
        connection.last[key] = max(connection.last[key], missed.last_id)
        for event in held:
            connection.give(event)
        return connection.last[key]

    def unfollow(self, connection: Connection, stream: Stream) -> None:
        connection.last.pop(stream.key, None)
        self._unwatch(stream.key, connection)

    # -- the process's loops -----------------------------------------------------------------

    async def run(self) -> None:
        """Listen, deliver and check sessions (and sweep, with Redis) until cancelled."""
        loops = [self._listen_forever(), self._deliver_forever(), self._check_forever()]
        if not isinstance(self.fanout, PostgresFanout):  # NOTIFY is sent by the commit itself
            loops.append(self._sweep_forever())
        await asyncio.gather(*loops)

    async def _listen_forever(self) -> None:
        first = True
        while True:
            lost = asyncio.Event()
            listening: Listening | None = None
            try:
                listening = await self.fanout.listen(self._inbox.put_nowait, lost.set)
                if not first:  # what was committed while nobody listened
                    await self._catch_up()
                first = False
                self._listening.set()
                await lost.wait()
                log.warning("realtime: the fan-out connection was lost; reconnecting")
            except (OSError, asyncpg.PostgresError, RedisError, TimeoutError) as exc:
                log.warning("realtime: cannot listen", fanout=self.fanout.name, error=str(exc))
            finally:
                self._listening.clear()
                if listening is not None:
                    await listening.close()
            first = False
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _catch_up(self) -> None:
        for connection in list(self.connections):
            for key, at in list(connection.last.items()):
                with contextlib.suppress(Exception):
                    await self.follow(connection, Stream.parse(key), at)

    async def _deliver_forever(self) -> None:
        """In arrival order, in batches: whatever arrived while the last batch was read is
        read in one query (under load, one statement for hundreds of events)."""
        while True:
            payloads = [await self._inbox.get()]
            while len(payloads) < DELIVERY_BATCH and not self._inbox.empty():
                payloads.append(self._inbox.get_nowait())
            if None in payloads:
                return
            try:
                await self._deliver([p for p in payloads if p is not None])
            except Exception as exc:  # one bad batch must not stop delivery of the others
                log.warning("realtime: events were not delivered", error=str(exc))

    async def _deliver(self, payloads: list[str]) -> None:
        wanted = self._ranges_lacking(self._ceilings(payloads))
        if wanted:
            await self._give_ranges(wanted)

    def _ceilings(self, payloads: list[str]) -> dict[str, int]:
        """Typing signals go out at once; per stream followed here, the newest id announced."""
        ceilings: dict[str, int] = {}
        for payload in payloads:
            if payload.startswith("t "):
                _, sender, recipient = payload.split(" ")
                text = frame(service.TYPING, stream="user", data={"user_id": sender})
                for connection in list(self.by_stream.get(f"u:{recipient}", ())):
                    connection.push(text)
                continue
            pointer, key = payload.split(" ", 1)
            if self.by_stream.get(key):  # else no socket here follows that stream
                ceilings[key] = max(ceilings.get(key, 0), int(pointer))
        return ceilings

    def _ranges_lacking(self, ceilings: dict[str, int]) -> dict[Stream, tuple[int, int]]:
        """Per stream, (floor, ceiling]: from the oldest event one of its sockets lacks."""
        wanted: dict[Stream, tuple[int, int]] = {}
        for key, ceiling in ceilings.items():
            behind = [
                c.last.get(key, ceiling - 1)
                for c in self.by_stream.get(key, ())
                if key in c.replaying or c.last.get(key, -1) < ceiling
            ]
            if behind:
                wanted[Stream.parse(key)] = (min(*behind, ceiling - 1), ceiling)
        return wanted

    async def _give_ranges(self, wanted: dict[Stream, tuple[int, int]]) -> None:
        # A batch may announce DELIVERY_BATCH events of one stream; past those, more than a
        # replay gives were never announced here.
        limit = self.settings.realtime_replay_limit + DELIVERY_BATCH
        with rls.system():
            async with self.sessionmaker() as db:
                found = await service.in_ranges(db, wanted, limit)
        for stream, events in found.items():
            watchers = list(self.by_stream.get(stream.key, ()))
            if len(events) >= limit:  # more missing than a replay gives: reload through REST
                for connection in watchers:
                    if stream.key not in connection.replaying:
                        connection.close_soon(RESYNC, "too far behind: reload through REST")
            for event in events:  # purged or erased meanwhile: not there, not given
                for connection in watchers:
                    connection.give(event)
                await asyncio.sleep(0)  # the writers send while a large batch is given out

    async def _sweep_forever(self) -> None:
        """Each stream's newest stored id, as if announced: what a process stored and never
        announced (it died after its commit, or Redis was down) reaches the sockets here."""
        window = max(SWEEP_WINDOW_SECONDS, 5 * self.settings.realtime_sweep_seconds)
        while True:
            await asyncio.sleep(self.settings.realtime_sweep_seconds)
            if not self.by_stream:
                continue
            try:
                with rls.system():
                    async with self.sessionmaker() as db:
                        newest = await service.newest_ids(db, window)
            except Exception as exc:  # PostgreSQL down: try again at the next interval
                log.warning("realtime: sweep failed", error=str(exc))
                continue
            for stream, event_id in newest.items():
                if stream.key in self.by_stream:
                    self._inbox.put_nowait(f"{event_id} {stream.key}")

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.realtime_session_check_seconds)
            try:
                await self.check_sessions()
            except Exception as exc:  # PostgreSQL down: try again at the next interval
                log.warning("realtime: session check failed", error=str(exc))

    async def check_sessions(self) -> None:
        now = datetime.now(UTC)
        for connection in list(self.connections):
            if connection.expires_at <= now:
                connection.close_soon(UNAUTHORIZED, "the access token expired")
        open_ = [c for c in self.connections if not c.closing]
        if not open_:
            return
        with rls.system():
            async with self.sessionmaker() as db:
                live = await service.live_sessions(db, list({c.session_id for c in open_}))
        for connection in open_:
            if connection.session_id not in live:
                connection.close_soon(UNAUTHORIZED, "the session has ended")

    @property
    def listening(self) -> bool:
        return self._listening.is_set()
