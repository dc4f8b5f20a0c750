"""The only code that touches the `files` GridFS bucket and `recording_submissions`.

`FileStore` is the storage interface the service uses; `GridFSStore` implements it on GridFS:
uploads written chunk by chunk (below), downloads through PyMongo's async GridFS bucket
(checked on FerretDB 1.24: download, seeking for ranges, deletion; README "Files"). An
S3-compatible store would implement the same four methods; none is offered because no
S3-compatible server could be run and tested here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from gridfs import AsyncGridFSBucket, NoFile

from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.files.models import BUCKET, CHUNK_BYTES, CHUNKS, FILES, SUBMISSIONS


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    length: int
    upload_date: datetime
    metadata: Mapping[str, Any]


class Upload(Protocol):
    async def write(self, data: bytes) -> None: ...
    async def finish(self, metadata: Mapping[str, Any]) -> None: ...
    async def abort(self) -> None: ...


class FileStore(Protocol):
    def upload(self, file_id: str, filename: str) -> Upload: ...
    async def stat(self, file_id: str) -> StoredFile | None: ...
    def read(self, file_id: str, start: int, end: int) -> AsyncIterator[bytes]: ...
    async def delete(self, file_ids: Sequence[str]) -> None: ...


class _GridFSUpload:
    """Writes a file the GridFS way (spec: chunks `{files_id, n, data}` of CHUNK_BYTES, then the
    file document, so a reader never sees a file before all of it is there), a chunk at a time.

    Hand-written rather than PyMongo's `open_upload_stream`, which keeps up to 32 MiB of chunks
    per upload in memory before inserting them together: 16 concurrent 5 MB uploads held the
    whole of every file (measured: +190 MiB of Python objects for one 40 MB upload). Here an
    upload holds one chunk. Files written here are read by PyMongo's GridFS bucket unchanged."""

    def __init__(self, mongo: Database, file_id: str, filename: str) -> None:
        self.mongo = mongo
        self.file_id = file_id
        self.filename = filename
        self.buffer = bytearray()
        self.number = 0
        self.length = 0

    async def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= CHUNK_BYTES:
            await self._chunk(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]

    async def _chunk(self, data: bytes) -> None:
        await self.mongo[CHUNKS].insert_one(
            {"files_id": self.file_id, "n": self.number, "data": data}
        )
        self.number += 1
        self.length += len(data)

    async def finish(self, metadata: Mapping[str, Any]) -> None:
        if self.buffer:
            await self._chunk(bytes(self.buffer))
            self.buffer.clear()
        await self.mongo[FILES].insert_one(
            {
                "_id": self.file_id,
                "length": self.length,
                "chunkSize": CHUNK_BYTES,
                "uploadDate": datetime.now(UTC),
                "filename": self.filename,
                "metadata": dict(metadata),
            }
        )

    async def abort(self) -> None:
        await self.mongo[CHUNKS].delete_many({"files_id": self.file_id})


class GridFSStore:
    def __init__(self, mongo: Database) -> None:
        self.mongo = mongo
        self.bucket = AsyncGridFSBucket(mongo, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)

    def upload(self, file_id: str, filename: str) -> Upload:
        return _GridFSUpload(self.mongo, file_id, filename)

    async def stat(self, file_id: str) -> StoredFile | None:
        document = await self.mongo[FILES].find_one({"_id": file_id})
        if document is None or "metadata" not in document:
            return None  # absent, or an upload that has not finished
        return StoredFile(
            document["_id"],
            document["filename"],
            document["length"],
            document["uploadDate"],
            document["metadata"],
        )

    async def read(self, file_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive), a chunk at a time: memory stays one chunk."""
        try:
            stream = await self.bucket.open_download_stream(file_id)
        except NoFile:
            return
        await stream.seek(start)
        left = end - start + 1
        while left > 0:
            data = await stream.readchunk()
            if not data:
                break
            piece = data[:left]
            left -= len(piece)
            yield piece

    async def delete(self, file_ids: Sequence[str]) -> None:
        """Chunks first: a crash in between leaves a document the next attempt deletes, never
        bytes without a document."""
        if file_ids:
            await self.mongo[CHUNKS].delete_many({"files_id": {"$in": list(file_ids)}})
            await self.mongo[FILES].delete_many({"_id": {"$in": list(file_ids)}})


async def file_ids_where(mongo: Database, field: str, value: str) -> list[str]:
    cursor = mongo[FILES].find({f"metadata.{field}": value}, {"_id": 1})
    return [d["_id"] async for d in cursor]


# --- recording submissions -------------------------------------------------------------


async def insert_submission(mongo: Database, document: MongoDocument) -> None:
    await mongo[SUBMISSIONS].insert_one(document)


async def submission(mongo: Database, submission_id: str) -> MongoDocument | None:
    found: MongoDocument | None = await mongo[SUBMISSIONS].find_one({"_id": submission_id})
    return found


async def review(mongo: Database, submission_id: str, values: Mapping[str, Any]) -> None:
    await mongo[SUBMISSIONS].update_one({"_id": submission_id}, {"$set": dict(values)})


async def submissions_page(
    mongo: Database, query: Mapping[str, Any], sort: list[tuple[str, int]], limit: int, skip: int
) -> tuple[list[MongoDocument], int]:
    cursor = mongo[SUBMISSIONS].find(dict(query)).sort(sort).skip(skip).limit(limit)
    items = [d async for d in cursor]
    total = await mongo[SUBMISSIONS].count_documents(dict(query))
    return items, total


async def delete_submissions_where(mongo: Database, field: str, value: str) -> list[str]:
    """Delete the submissions whose `field` is `value`; returns their recordings' file ids."""
    cursor = mongo[SUBMISSIONS].find({field: value}, {"fileId": 1})
    file_ids = [d["fileId"] async for d in cursor]
    await mongo[SUBMISSIONS].delete_many({field: value})
    return file_ids
