"""Events pushed over WebSockets (README "Real time"): published in the transaction of the
change they report, stored in PostgreSQL for replay, and announced to every API process at
commit with a pointer only (NOTIFY carries at most 8000 bytes; fanout.py: NOTIFY or Redis)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db import rls
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.realtime import fanout, repository
from oneenglish.sagas.workflow import TryLater
from oneenglish.settings import Settings

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
MESSAGE_DELETED = "message.deleted"
NOTIFICATION_CREATED = "notification.created"
ACHIEVEMENT_AWARDED = "achievement.awarded"
TYPING = "typing"


@dataclass(frozen=True)
class Stream:
    """A user's own events, or a course chat room's."""

    room: bool
    id: uuid.UUID

    @property
    def key(self) -> str:  # in NOTIFY payloads and the advisory lock
        return f"{'r' if self.room else 'u'}:{self.id}"

    @property
    def name(self) -> str:  # in envelopes
        return f"room:{self.id}" if self.room else "user"

    @property
    def column(self) -> str:
        return "course_id" if self.room else "user_id"

    @classmethod
    def of_user(cls, user_id: uuid.UUID) -> Stream:
        return cls(False, user_id)

    @classmethod
    def of_room(cls, course_id: uuid.UUID) -> Stream:
        return cls(True, course_id)

    @classmethod
    def parse(cls, key: str) -> Stream:
        kind, _, value = key.partition(":")
        return cls(kind == "r", uuid.UUID(value))


@dataclass(frozen=True)
class Event:
    id: int
    stream: Stream
    type: str
    data: dict[str, Any]
    at: datetime

    def envelope(self) -> str:
        return orjson.dumps(
            {
                "type": self.type,
                "id": self.id,
                "stream": self.stream.name,
                "at": self.at,
                "data": self.data,
            }
        ).decode()


def _json(data: BaseModel | dict[str, Any]) -> str:
    if isinstance(data, BaseModel):
        return data.model_dump_json()
    return orjson.dumps(data).decode()


class StreamBusy(TryLater):
    """Another transaction has the stream's turn, and this one may not wait (the relay's)."""


async def take_turns(db: AsyncSession, streams: list[Stream]) -> None:
    """Before publishing to several streams in one transaction: their turns, in one order
    (publishing one by one could wait in a cycle with a transaction that does the reverse)."""
    await repository.take_turns(db, [s.key for s in streams])


async def publish(
    db: AsyncSession,
    stream: Stream,
    kind: str,
    data: BaseModel | dict[str, Any],
    *,
    wait: bool = True,
) -> int:
    """Add an event to the caller's transaction: it is pushed exactly if the change commits.
    Written for the system: the caller has authorized what the event reports to whom.

    A transaction that publishes to more than one stream takes their turns first
    (take_turns); one that must never wait (the saga relay's, which holds many users' rows at
    once) passes `wait=False` and gets StreamBusy instead, to retry later."""
    at_commit = fanout.announces_at_commit(db)
    async with rls.elevated(db):
        event_id = await repository.publish(
            db,
            stream.key,
            None if stream.room else stream.id,
            stream.id if stream.room else None,
            kind,
            _json(data),
            wait=wait,
            notify=not at_commit,
        )
    if event_id is None:
        raise StreamBusy(stream.key)
    if at_commit:
        fanout.announce_at_commit(db, f"{event_id} {stream.key}")
    return event_id


async def signal_typing(db: AsyncSession, sender: uuid.UUID, recipient: uuid.UUID) -> None:
    """Not stored: a typing indicator is worth nothing a second later."""
    if fanout.announces_at_commit(db):
        fanout.announce_at_commit(db, f"t {sender} {recipient}")
    else:
        await repository.notify(db, f"t {sender} {recipient}")


def _event(row: Any) -> Event:
    stream = Stream.of_room(row.course_id) if row.course_id else Stream.of_user(row.user_id)
    return Event(row.id, stream, row.type, row.data, row.created_at)


async def in_ranges(
    db: AsyncSession, wanted: dict[Stream, tuple[int, int]], limit: int
) -> dict[Stream, list[Event]]:
    """Each stream's events with floor < id <= ceiling (`wanted`: stream -> (floor, ceiling)),
    in id order, at most `limit` per stream; one statement per kind of stream."""
    found: dict[Stream, list[Event]] = {stream: [] for stream in wanted}
    async with rls.elevated(db):
        for room in (False, True):
            ranges = [(s.id, lo, hi) for s, (lo, hi) in wanted.items() if s.room is room]
            column = "course_id" if room else "user_id"
            for row in await repository.ranges(db, column, ranges, limit):
                event = _event(row)
                found[event.stream].append(event)
    for events in found.values():
        events.sort(key=lambda e: e.id)
    return found


async def newest_ids(db: AsyncSession, window_seconds: float) -> dict[Stream, int]:
    """Each stream's newest event id stored in the last `window_seconds`."""
    async with rls.elevated(db):
        rows = await repository.newest(db, timedelta(seconds=window_seconds))
    return {
        (Stream.of_room(r.course_id) if r.course_id else Stream.of_user(r.user_id)): int(r.id)
        for r in rows
    }


@dataclass(frozen=True)
class Missed:
    events: list[Event]
    # The client is too far behind (more than the replay limit, or older than what is kept):
    # it should reload through REST; `last_id` is where the live stream goes on from.
    resync: bool
    last_id: int


async def missed(db: AsyncSession, stream: Stream, after_id: int, limit: int) -> Missed:
    """The stream's events after `after_id`, if there are at most `limit` and none was purged."""
    async with rls.elevated(db):
        events = [
            _event(r)
            for r in await repository.since(db, stream.column, stream.id, after_id, limit + 1)
        ]
        oldest = await repository.oldest_id(db)
        purged = oldest is not None and after_id + 1 < oldest and after_id > 0
        if len(events) > limit or purged:
            return Missed([], True, await repository.last_id(db, stream.column, stream.id))
    return Missed(events, False, events[-1].id if events else after_id)


async def last_id(db: AsyncSession, stream: Stream) -> int:
    async with rls.elevated(db):
        return await repository.last_id(db, stream.column, stream.id)


async def live_sessions(db: AsyncSession, session_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    async with rls.elevated(db):
        return await repository.live_sessions(db, session_ids)


async def purge(db: AsyncSession, settings: Settings) -> int:
    return await repository.delete_older_than(
        db, timedelta(seconds=settings.realtime_event_retention_seconds)
    )


register_user_table(
    UserTable(
        "realtime_events",
        excluded_because="copies, kept a day for reconnecting sockets, of chat messages and "
        "notifications, which are exported from where they live",
    )
)
