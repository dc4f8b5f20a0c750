"""`Idempotency-Key` on the creating POSTs (the IETF httpapi draft "The Idempotency-Key HTTP
Header Field"): a client that sends a key and retries — after a timeout, a dropped connection,
a 503 whose outcome was unknown — gets the first outcome again, not a duplicate or a 409.

The outcome is stored in PostgreSQL in the transaction of the change it describes, so it
exists exactly when the change was committed: a retry after a crash finds it if and only if
the first attempt happened. Kept 24 hours (then purged by the maintenance loop), scoped to the
caller (`user:<id>`; for a sign-up, which has no caller, the client address). The same key
with another request (method, path or body) is a 422; while the first request's saga is still
running, a 409 with Retry-After; if that saga was compensated (nothing was kept), the request
runs again. Creates that write MongoDB only (messages) take their document id from the key,
so a retry cannot make a second document even when the first attempt died before storing its
outcome."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core.errors import Conflict, InvalidInput, Replay
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.idempotency import repository
from oneenglish.sagas.log import saga_status
from oneenglish.sagas.models import COMPENSATED, FAILED, UNFINISHED

TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class IdempotentRequest:
    scope: str
    key: str
    fingerprint: bytes

    @classmethod
    def of(cls, scope: str, key: str, method: str, path: str, body: bytes) -> IdempotentRequest:
        digest = hashlib.sha256(f"{method} {path}\n".encode() + body).digest()
        return cls(scope, key, digest)

    def derived_bytes(self, purpose: str, size: int) -> bytes:
        """Bytes that only this key (in this scope) yields: ids of what the request creates."""
        return hashlib.sha256(f"{purpose}:{self.scope}:{self.key}".encode()).digest()[:size]


async def replay_if_known(db: AsyncSession, request: IdempotentRequest | None) -> None:
    """Raise Replay with the first outcome of this key, if there is one to give."""
    if request is None:
        return
    row = await repository.get(db, request.scope, request.key)
    if row is None:
        return
    if row.fingerprint != request.fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was used for another request; use a new key",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "used for another request"}],
        )
    if row.saga_id is not None:
        status = await saga_status(db, row.saga_id)
        if status in UNFINISHED:
            raise Conflict(
                "The first request with this Idempotency-Key is still being completed; "
                "retry shortly",
                headers={"Retry-After": "1"},
            )
        if status in (COMPENSATED, FAILED):  # undone: nothing of it was kept, so run again
            await repository.delete_one(db, request.scope, request.key)
            return
        if isinstance(row.body, dict) and row.body.get("recorded") is False:
            # Stored before its saga ran ("not recorded yet"); the saga has completed since.
            raise Replay(row.status_code, {**row.body, "recorded": True})
    raise Replay(row.status_code, row.body)


async def remember(
    db: AsyncSession,
    request: IdempotentRequest | None,
    *,
    status_code: int,
    body: BaseModel | dict[str, Any],
    user_id: uuid.UUID | None,
    saga_id: uuid.UUID | None = None,
) -> None:
    """Store the outcome in the caller's transaction (it commits with the change)."""
    if request is None:
        return
    stored = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    if not await repository.insert_once(
        db,
        TTL_SECONDS,
        scope=request.scope,
        key=request.key,
        fingerprint=request.fingerprint,
        user_id=user_id,
        status_code=status_code,
        body=stored,
        saga_id=saga_id,
    ):
        raise Conflict(
            "Another request with this Idempotency-Key has just been completed; retry it to "
            "get its outcome",
            headers={"Retry-After": "1"},
        )


async def delete_expired(db: AsyncSession) -> int:
    return await repository.delete_expired(db)


register_user_table(
    UserTable(
        "idempotency_keys",
        excluded_because="copies of responses to the user's own requests, whose data is "
        "exported in full; kept 24 hours and erased with the user",
    )
)
