"""Error logs: every unhandled error, with what is needed to find its cause (type, message,
stack, the request it broke) and nothing a request carried in secret (no headers, no bodies,
sensitive-looking query parameters redacted, and the message and stack scrubbed of the secrets
and personal values a server's message may quote: core.redaction).

Recording happens in the 500 handler, so it must never block nor fail: the entry goes to a
bounded in-process queue written in the background (core.background.BatchWriter); a full
queue drops the entry, counted and logged (the log line with the traceback remains)."""

from __future__ import annotations

import re
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

from oneenglish.activity.service import retryable
from oneenglish.core.background import BatchWriter, UserGuard
from oneenglish.core.context import UnhandledError
from oneenglish.core.cursors import CursorCodec, CursorPage, next_page
from oneenglish.core.documents import storable_text
from oneenglish.core.errors import NotFound
from oneenglish.core.redaction import scrub
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.error_logs import repository
from oneenglish.error_logs.schemas import ErrorLogOut, ErrorLogQuery, ErrorLogSummaryOut
from oneenglish.settings import Settings

REDACTED = "[redacted]"
SEVERITY = "error"
MAX_MESSAGE = 2_000
MAX_STACK = 20_000
MAX_TEXT = 500
MAX_QUERY_PARAMETERS = 50

# Substrings of parameter names whose values are secrets (access_token, api_key, password,
# client_secret, X-Auth, session_id, …). Redacting too much costs a little debugging; too
# little leaks a credential into a log that many operators read.
_SENSITIVE_NAME = re.compile(
    r"pass|pwd|secret|token|key|auth|session|cookie|signature|credential|otp|jwt", re.IGNORECASE
)
# A JWT is a credential whatever the parameter is called.
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.")


class ErrorLog:
    def __init__(self, settings: Settings) -> None:
        self.writer: BatchWriter[MongoDocument] = BatchWriter(
            "error_logs",
            capacity=settings.error_log_queue_size,
            batch_size=settings.log_write_batch_size,
            linger=settings.log_write_linger_seconds,
            retry_if=retryable,
        )

    def capture(self, error: UnhandledError) -> bool:
        """Queue an entry for an unhandled error; never waits. False if the queue was full."""
        return self.writer.offer(error_document(error, datetime.now(UTC)))

    def start(self, mongo: Database, guard: UserGuard) -> None:
        """Write batches to `db`; an entry whose user is erased or being erased (`guard`, held
        while the batch is written) is kept without who and where: the error stays, the user
        does not."""

        async def write(entries: list[MongoDocument]) -> None:
            users = list({e["userId"] for e in entries if e.get("userId")})
            async with guard(users) as erased:
                await repository.insert_many(mongo, [_without(e, erased) for e in entries])

        self.writer.start(write)

    async def flush(self) -> None:
        await self.writer.flush()

    async def stop(self) -> None:
        await self.writer.stop()

    @property
    def dropped(self) -> int:
        return self.writer.dropped


def _without(entry: MongoDocument, erased: frozenset[str]) -> MongoDocument:
    if entry.get("userId") not in erased:
        return entry
    context = {**entry["context"], "ip": None, "userAgent": None}
    return {**entry, "userId": None, "context": context}


def redact_query(parameters: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "name": storable_text(name, MAX_TEXT),
            "value": REDACTED
            if _SENSITIVE_NAME.search(name) or _JWT.match(value)
            else storable_text(value, MAX_TEXT),
        }
        for name, value in parameters[:MAX_QUERY_PARAMETERS]
    ]


def error_document(error: UnhandledError, now: datetime) -> MongoDocument:
    exc = error.error
    stack = "".join(traceback.format_exception(exc))
    if len(stack) > MAX_STACK:
        # The innermost frames, at the end, say where it broke.
        stack = "…" + stack[-MAX_STACK:]
    return {
        "_id": error.error_id,
        "userId": str(error.user_id) if error.user_id else None,
        "errorType": _error_type(exc),
        "message": storable_text(scrub(str(exc)), MAX_MESSAGE),
        "stack": storable_text(scrub(stack), MAX_STACK + 1),
        "context": {
            "method": error.method,
            "path": storable_text(error.path, MAX_TEXT),
            "route": error.route,
            "requestId": error.request_id,
            "ip": error.ip,
            "userAgent": storable_text(error.user_agent, MAX_TEXT) if error.user_agent else None,
            "query": redact_query(error.query),
        },
        "severity": SEVERITY,
        "timestamp": now,
    }


def _error_type(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _codec(settings: Settings) -> CursorCodec:
    return CursorCodec(settings.signing_key.encode(), "error_logs")


async def list_errors(
    mongo: Database, settings: Settings, query: ErrorLogQuery
) -> CursorPage[ErrorLogSummaryOut]:
    codec = _codec(settings)
    after = codec.decode(query.cursor) if query.cursor else None
    documents = await repository.find_page(
        mongo,
        error_type=query.error_type,
        user_id=str(query.user_id) if query.user_id else None,
        start=query.from_,
        end=query.to,
        after=after,
        limit=query.limit + 1,
    )
    page, next_cursor = next_page(
        documents, query.limit, codec, lambda d: (d["timestamp"], d["_id"])
    )
    return CursorPage(
        items=[ErrorLogSummaryOut(**_fields(d)) for d in page], next_cursor=next_cursor
    )


async def get_error(mongo: Database, error_id: str) -> ErrorLogOut:
    document = await repository.get(mongo, error_id)
    if document is None:
        raise NotFound(f"No error log {error_id}")
    return ErrorLogOut(**_fields(document), stack=document.get("stack", ""))


async def purge_older_than(mongo: Database, days: int, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return await repository.delete_older_than(mongo, cutoff)


def _fields(document: MongoDocument) -> dict[str, Any]:
    context = document.get("context", {})
    return {
        "id": document["_id"],
        "user_id": document.get("userId"),
        "error_type": document["errorType"],
        "message": document.get("message", ""),
        "context": {
            "method": context.get("method", ""),
            "path": context.get("path", ""),
            "route": context.get("route"),
            "request_id": context.get("requestId"),
            "ip": context.get("ip"),
            "user_agent": context.get("userAgent"),
            "query": context.get("query", []),
        },
        "severity": document.get("severity", SEVERITY),
        "timestamp": document["timestamp"],
    }
