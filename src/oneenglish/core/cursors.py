"""Opaque, signed cursors for newest-first keyset pagination.

A cursor names the last item a client saw (its timestamp and id). The next page holds items
strictly older in (timestamp, id) order, so a page never repeats or skips an item even while
new ones are being inserted. The cursor is signed: one that was edited or made up is a 400,
never a query on attacker-chosen values."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from oneenglish.core.errors import BadRequest

MAX_LIMIT = 100

T = TypeVar("T")
D = TypeVar("D")

CursorParam = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]


class CursorCodec:
    def __init__(self, secret: bytes, purpose: str) -> None:
        # One key per kind of list: a chat cursor cannot be replayed against notifications.
        self._key = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()

    def encode(self, timestamp: datetime, item_id: Any) -> str:
        payload = orjson.dumps({"t": timestamp.isoformat(), "i": str(item_id)})
        signature = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(payload + signature).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[datetime, str]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload, signature = raw[:-16], raw[-16:]
            expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(signature, expected):
                raise ValueError("bad signature")
            data = orjson.loads(payload)
            return datetime.fromisoformat(data["t"]), str(data["i"])
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            raise BadRequest("The cursor is not valid; start again from the first page") from exc


def older_than(timestamp: datetime, item_id: Any, field: str = "createdAt") -> dict[str, Any]:
    """The MongoDB filter for items after the cursor in (field desc, _id desc) order."""
    return {
        "$or": [
            {field: {"$lt": timestamp}},
            {field: timestamp, "_id": {"$lt": item_id}},
        ]
    }


def log_filter(
    equals: Mapping[str, str | None],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    after: tuple[datetime, Any] | None = None,
    field: str = "timestamp",
) -> dict[str, Any]:
    """The filter of a newest-first log page (audit, error and activity logs): the given
    equalities (None: not filtered), `field` in [start, end), and past the cursor `after`."""
    query: dict[str, Any] = {k: v for k, v in equals.items() if v is not None}
    window = {op: t for op, t in (("$gte", start), ("$lt", end)) if t is not None}
    if window:
        query[field] = window
    if after is not None:
        query.update(older_than(*after, field=field))
    return query


def codec_for(secret: str, purpose: str) -> CursorCodec:
    return CursorCodec(secret.encode(), purpose)


class CursorPage(BaseModel, Generic[T]):
    """One page of a newest-first list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def next_page(
    documents: Sequence[D],
    limit: int,
    codec: CursorCodec,
    position: Callable[[D], tuple[datetime, Any]],
) -> tuple[list[D], str | None]:
    """Split `limit + 1` fetched items into the page and the cursor after it (the extra item
    only says that there is a next page)."""
    page = list(documents[:limit])
    if len(documents) <= limit or not page:
        return page, None
    return page, codec.encode(*position(page[-1]))


def _as_utc(value: datetime) -> datetime:
    # A datetime without an offset is read as UTC, the zone every stored timestamp is in. One
    # whose UTC time falls outside years 1-9999 (`0001-01-01T00:00:00+14:00`) exists in no
    # database: a validation error (422), not an OverflowError (500) further down.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is outside the years 1 to 9999 once converted to UTC") from exc


# The one datetime type of request input (tests/test_input.py checks no route takes another).
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class NewestFirstQuery(BaseModel):
    """Query parameters of a newest-first list with a time range; unknown parameters are a 422.
    Domains extend it with their filters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: UtcDatetime | None = Field(
        None, alias="from", description="Only entries at or after this time (ISO 8601)"
    )
    to: UtcDatetime | None = Field(None, description="Only entries before this time (ISO 8601)")
    cursor: str | None = Field(
        None, max_length=512, description="`next_cursor` of the previous page"
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Items per page")

    @model_validator(mode="after")
    def _from_not_after_to(self) -> NewestFirstQuery:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError("`from` must not be after `to`")
        return self
