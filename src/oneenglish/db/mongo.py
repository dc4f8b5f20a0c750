"""MongoDB: the client, the per-request database handle and the index registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo import AsyncMongoClient, IndexModel, ReturnDocument, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, ProtocolError

from oneenglish.core import metrics
from oneenglish.core.context import note_write_sent
from oneenglish.core.logging import get_logger
from oneenglish.settings import Settings

MongoDocument = dict[str, Any]
Database = AsyncDatabase[MongoDocument]
Collection = AsyncCollection[MongoDocument]

DUPLICATE_KEY = 11000

# Server errors that mean "not now" on a real MongoDB (host unreachable, shutting down, not the
# primary, a step-down, time limits), as the driver's retry logic knows them.
_TRANSIENT_CODES = frozenset(
    {6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 133}
)
# FerretDB answers InternalError (1) with its backend's failure in the text when the PostgreSQL
# behind it refuses or drops connections: as much an outage as MongoDB being down.
_BACKEND_DOWN = (
    "SQLSTATE 08",
    "SQLSTATE 53",
    "SQLSTATE 57",
    "failed to connect",
    "connection refused",
    "dial error",
    "conn closed",
    "unexpected EOF",
)

log = get_logger("oneenglish.mongo")


_WRITE_COMMANDS = frozenset({"insert", "update", "delete", "findAndModify", "bulkWrite"})


class _WriteLedgerListener(monitoring.CommandListener):
    """Marks the request's write ledger (core.context) when a write command goes out, and times
    every command in the metrics (core/metrics.py)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _WRITE_COMMANDS:
            note_write_sent()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        metrics.observe_db("mongodb", event.command_name, event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        metrics.observe_db("mongodb", event.command_name, event.duration_micros / 1e6, failed=True)


def create_client(settings: Settings) -> AsyncMongoClient[MongoDocument]:
    timeout_ms = int(settings.mongodb_server_selection_timeout * 1000)
    ca_file = settings.mongo_ca_file
    # A CA file turns TLS on, with the server's certificate and host name verified against it.
    tls: dict[str, Any] = {"tlsCAFile": str(ca_file)} if ca_file else {}
    return AsyncMongoClient(
        settings.mongo_url,
        maxPoolSize=settings.mongodb_max_pool_size,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
        appname="oneenglish",
        event_listeners=[_WriteLedgerListener()],
        **tls,
    )


def is_unavailable(exc: BaseException) -> bool:
    """True when MongoDB failed as a service (503 and retry), not because of the request."""
    if isinstance(exc, ConnectionFailure):
        return True
    if isinstance(exc, OperationFailure):
        if exc.code in _TRANSIENT_CODES or exc.has_error_label("RetryableWriteError"):
            return True
        message = str((exc.details or {}).get("errmsg", exc))
        return exc.code == 1 and any(sign in message for sign in _BACKEND_DOWN)
    return False


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.mongo_db
    return database


MongoDb = Annotated[Database, Depends(get_database)]


async def insert_many_once(collection: Collection, documents: list[MongoDocument]) -> None:
    """Insert documents that carry their own `_id`, unordered (one bad document does not stop
    the others). A batch sent again after a lost answer finds some already there: those
    duplicates are the idempotence working, not an error."""
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(
            e.get("code") != DUPLICATE_KEY for e in errors
        ):
            raise


async def find_within_message_size(
    collection: Collection,
    query: dict[str, Any],
    *,
    sort: list[tuple[str, int]],
    limit: int,
    projection: dict[str, Any] | None = None,
) -> list[MongoDocument]:
    """A find whose reply may hold documents of up to 16 MB each.

    MongoDB caps each reply batch at 16 MB; FerretDB 1.24 does not, so a page of large
    documents (audit entries written before their snapshots were bounded) makes a reply larger
    than the 48 MB a message may be, which the driver refuses. Then the page is read again one
    document per batch: slower, only for such pages, and never a 500."""
    cursor = collection.find(query, projection).sort(sort).limit(limit)
    try:
        return await cursor.to_list()
    except ProtocolError as exc:
        if "max message size" not in str(exc):
            raise
    log.warning("page read again one document per batch", collection=collection.name)
    one_by_one = collection.find(query, projection).sort(sort).limit(limit).batch_size(1)
    return [document async for document in one_by_one]


class ConcurrentUpdate(Exception):
    """The document kept changing under a read-modify-replace; the caller may retry."""


async def replace_changed(
    collection: Collection,
    document_id: Any,
    change: Callable[[MongoDocument], MongoDocument],
    *,
    attempts: int = 3,
) -> MongoDocument | None:
    """Read the document, let `change` compute its new version, and replace it whole if it is
    still as read (its `updatedAt`, which the new version must move on); None if it does not
    exist. A whole replacement rather than `$set`, because FerretDB 1.24 skips a `$set` whose
    new embedded document holds the old one's values under other keys (`{a: 1}` to `{b: 1}`:
    its comparison ignores keys), and silently keeps the old value."""
    for _ in range(attempts):
        current = await collection.find_one({"_id": document_id})
        if current is None:
            return None
        replaced = await collection.find_one_and_replace(
            {"_id": document_id, "updatedAt": current["updatedAt"]},
            change(current),
            return_document=ReturnDocument.AFTER,
        )
        if replaced is not None:
            return replaced
    raise ConcurrentUpdate(f"{collection.name} {document_id} kept changing")


@dataclass(frozen=True)
class IndexSpec:
    """An index a collection needs. Declared next to the documents that need it."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    name: str
    unique: bool = False

    def model(self) -> IndexModel:
        return IndexModel(list(self.keys), name=self.name, unique=self.unique)


_REGISTRY: dict[str, IndexSpec] = {}


def register_indexes(*specs: IndexSpec) -> None:
    for spec in specs:
        _REGISTRY[f"{spec.collection}.{spec.name}"] = spec


def registered_indexes() -> list[IndexSpec]:
    return list(_REGISTRY.values())


async def ensure_indexes(database: Database) -> int:
    """Create every registered index; creating an existing identical index is a no-op.

    One index per command: FerretDB 1.24 panics on a createIndexes naming several indexes
    that already exist (MongoDB takes them together; the few extra round trips cost nothing)."""
    specs = registered_indexes()
    for spec in specs:
        await database[spec.collection].create_indexes([spec.model()])
    log.info("mongodb indexes ensured", count=len(specs))
    return len(specs)


@dataclass(frozen=True)
class Reference:
    """A field of a collection that holds the id of a PostgreSQL row (`table`).

    Reconcile checks every such reference points at a row. References to users also drive
    erasure (their documents are deleted with the user, unless `erase` is off: audit logs) and
    the data export (without the fields in `export_omits`: internals that are not the user's
    data and must not reach a client, such as an error's stack)."""

    collection: str
    field: str
    table: str = "users"
    erase: bool = True
    export_omits: tuple[str, ...] = ()

    # The registry's own access, by the reference field alone: what erasure, the export and
    # reconcile do to every collection without a repository function per collection. The
    # repositories' "only code that touches" means: apart from these.

    async def documents_of(self, mongo: Database, row_id: str, limit: int) -> list[MongoDocument]:
        omitted = {name: 0 for name in self.export_omits} or None
        return await find_within_message_size(
            mongo[self.collection],
            {self.field: row_id},
            sort=[("_id", 1)],
            limit=limit,
            projection=omitted,
        )

    async def delete_of(self, mongo: Database, row_ids: Sequence[Any]) -> None:
        await mongo[self.collection].delete_many({self.field: {"$in": list(row_ids)}})

    async def referenced(self, mongo: Database) -> list[Any]:
        return list(await mongo[self.collection].distinct(self.field))


_REFERENCES: dict[str, Reference] = {}


def register_reference(*references: Reference) -> None:
    for reference in references:
        _REFERENCES[f"{reference.collection}.{reference.field}"] = reference


def references() -> list[Reference]:
    return list(_REFERENCES.values())


def user_references() -> list[Reference]:
    return [r for r in _REFERENCES.values() if r.table == "users"]
