"""How an event stored by one API process is announced to every process's hub: a pointer
(`<id> <stream>`, or a typing signal `t <sender> <recipient>`), never the event itself.

- PostgreSQL (the default): `pg_notify` in the publishing statement, delivered by the server
  at commit and never for a rollback; each hub LISTENs on a connection of its own.
- Redis (REDIS_URL, or LOCAL_REDIS): the pointers of a transaction are published after it
  commits (an after-commit hook on the application's sessions), in one PUBLISH per batch,
  and each hub SUBSCRIBEs. A process that dies between its commit and its PUBLISH leaves an
  event stored but unannounced: the hubs' sweep (hub.py) finds it within
  REALTIME_SWEEP_SECONDS, and a later event of its stream brings it at once, since delivery
  reads a stream's range of ids, not single ids. A PUBLISH that fails (Redis down) is logged
  and left to the sweep; nothing stored is lost.

Either way delivery reads the events from PostgreSQL: it never waits for MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg
import redis.asyncio as redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from oneenglish.core.logging import get_logger
from oneenglish.realtime import repository
from oneenglish.realtime.models import CHANNEL
from oneenglish.settings import Settings

log = get_logger("oneenglish.realtime")

_ANNOUNCER = "oneenglish.realtime.announcer"
_PENDING = "oneenglish.realtime.pending"
PUBLISH_BATCH = 500


class Listening(Protocol):
    async def close(self) -> None: ...


class Fanout(Protocol):
    name: str

    async def listen(
        self, on_payload: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Listening: ...

    async def close(self) -> None: ...


def announces_at_commit(db: AsyncSession) -> bool:
    """True when the caller's commit (not the SQL) must announce what it publishes."""
    return _ANNOUNCER in db.info


def announce_at_commit(db: AsyncSession, payload: str) -> None:
    db.info.setdefault(_PENDING, []).append(payload)


class _PgListening:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close(timeout=1)


class PostgresFanout:
    name = "postgresql"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def listen(
        self, on_payload: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Listening:
        return _PgListening(await repository.listen(self.settings, on_payload, on_lost))

    async def close(self) -> None:
        return None


class _RedisListening:
    def __init__(self, pubsub: Any, task: asyncio.Task[None]) -> None:
        self.pubsub = pubsub
        self.task = task

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()


class RedisFanout:
    name = "redis"

    def __init__(self, settings: Settings) -> None:
        # rediss:// verifies the server's certificate: the system's CAs, or this file (an
        # option of TLS connections only; a redis:// connection refuses it).
        tls: dict[str, Any] = {}
        if settings.redis_ca_file is not None and settings.redis_target.startswith("rediss://"):
            tls["ssl_ca_certs"] = str(settings.redis_ca_file)
        self.client: redis.Redis = redis.Redis.from_url(
            settings.redis_target, socket_connect_timeout=5, health_check_interval=15, **tls
        )
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._publisher: asyncio.Task[None] | None = None

    def install(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Sessions of this sessionmaker announce what they published when they commit."""
        sessionmaker.configure(info={_ANNOUNCER: True})
        session_class = sessionmaker.kw["sync_session_class"]
        fanout = self

        @event.listens_for(session_class, "after_commit")
        def _announce(session: Session) -> None:
            pending = session.info.pop(_PENDING, None)
            if pending:
                fanout.announce(pending)

        @event.listens_for(session_class, "after_rollback")
        def _forget(session: Session) -> None:
            session.info.pop(_PENDING, None)

    def announce(self, payloads: list[str]) -> None:
        for payload in payloads:
            self._outbox.put_nowait(payload)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(self._publish_forever())

    async def _publish_forever(self) -> None:
        """In commit order, whatever committed while the last PUBLISH was in flight in one."""
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                await self.client.publish(CHANNEL, "\n".join(batch))
            except Exception as exc:  # the hubs' sweep delivers these; publishing goes on
                log.warning("realtime: cannot publish to Redis", error=str(exc), events=len(batch))

    async def listen(
        self, on_payload: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Listening:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)

        async def read() -> None:
            try:
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes):
                        for payload in data.decode().split("\n"):
                            on_payload(payload)
            except Exception as exc:  # reconnected by the hub, which catches up
                log.warning("realtime: the Redis subscription was lost", error=str(exc))
            finally:
                on_lost()

        return _RedisListening(pubsub, asyncio.get_running_loop().create_task(read()))

    async def close(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(BaseException):
                await self._publisher
        left = [self._outbox.get_nowait() for _ in range(self._outbox.qsize())]
        if left:  # what committed before the shutdown, if Redis takes it at once
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.publish(CHANNEL, "\n".join(left)), 2)
        await self.client.aclose()


def open_fanout(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> PostgresFanout | RedisFanout:
    if not settings.uses_redis:
        return PostgresFanout(settings)
    fanout = RedisFanout(settings)
    fanout.install(sessionmaker)
    return fanout
