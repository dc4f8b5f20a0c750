"""Opaque, signed cursors for newest-first keyset pagination.

A cursor names the last item a client saw (its timestamp and id). The next page holds items
strictly older in (timestamp, id) order, so a page never repeats or skips an item even while
new ones are being inserted. The cursor is signed: one that was edited or made up is a 400,
never a query on attacker-chosen values."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Query

from oneenglish.core.errors import BadRequest

MAX_LIMIT = 100

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


def codec_for(secret: str, purpose: str) -> CursorCodec:
    return CursorCodec(secret.encode(), purpose)
