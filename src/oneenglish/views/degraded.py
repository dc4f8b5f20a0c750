"""Reads that go on without MongoDB: what MongoDB would have added is None, and the answer
names it in `degraded`."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.errors import PyMongoError

from oneenglish.db.mongo import is_unavailable


async def mongo_or_degraded(*reads: Any) -> tuple[list[Any], list[str]]:
    """The results of the MongoDB reads, run together; all None and `["mongodb"]` when MongoDB
    is unavailable (any other error is raised)."""
    try:
        return list(await asyncio.gather(*reads)), []
    except PyMongoError as exc:
        if not is_unavailable(exc):
            raise
        return [None] * len(reads), ["mongodb"]
