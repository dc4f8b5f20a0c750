"""(j) uploading and (k) downloading a 5 MB audio file, as lesson media, 16 clients at once.

Throughput is requests/s × 5 MiB. The floor is the same GridFS work issued directly with
PyMongo: the upload's chunks inserted one by one as the API does, then its file document; the
download read chunk by chunk with PyMongo's async GridFS bucket. The API streams both ways, so
its memory must stay flat: the run's peak RSS is in the table (RSS MiB)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from gridfs import AsyncGridFSBucket

from bench.api_server import Route
from bench.databases import Databases
from bench.scenarios.base import RunContext, Scenario
from bench.wrk import WrkPlan
from oneenglish.files.models import BUCKET, CHUNK_BYTES

FILE_BYTES = 5 * 1024 * 1024
PIECE_BYTES = 64 * 1024
CONCURRENCY = 16
DOWNLOADABLE = 8  # distinct files the downloads pick from
BOUNDARY = "benchboundary7f3a9c"
# An MP3's ID3 header, then noise: sniffed as audio/mpeg like a real file.
_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + random.Random(7).randbytes(FILE_BYTES - 10)
BENCH_NAME = "bench-audio.mp3"


def _facts() -> dict[str, Any]:
    return {
        "file_bytes": FILE_BYTES,
        "connections": CONCURRENCY,
        "why_connections": "16 clients each moving a 5 MiB file (MiB/s = req/s x 5)",
    }


async def _lesson(db: Databases) -> uuid.UUID:
    lesson = await db.pool.fetchval(
        "SELECT l.id FROM lessons l JOIN courses c ON c.id = l.course_id "
        "WHERE c.slug LIKE 'bench-c%' ORDER BY l.id LIMIT 1"
    )
    if lesson is None:
        raise RuntimeError("no lesson: load the courses data set")
    return uuid.UUID(str(lesson))


async def upload_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    lesson = await _lesson(db)
    body = ctx.env.run_dir / "upload-body.bin"
    body.write_bytes(
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{BENCH_NAME}"\r\nContent-Type: audio/mpeg\r\n\r\n'
        ).encode()
        + _AUDIO
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    path = f"/api/files?purpose=lesson_media&lesson_id={lesson}"
    return WrkPlan("files_upload.lua", (str(body), BOUNDARY, ctx.admin.token, path))


def _bucket(db: Databases) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db.mongo, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)


async def upload_floor(ctx: RunContext, db: Databases) -> Any:
    """The writes the API makes for one upload, issued directly: each 255 KiB chunk inserted as
    it fills, then the file's document."""
    chunks, files = db.mongo[f"{BUCKET}.chunks"], db.mongo[f"{BUCKET}.files"]
    lesson = str(await _lesson(db))

    async def upload(rng: random.Random) -> None:
        file_id = str(uuid.uuid4())
        for number, start in enumerate(range(0, FILE_BYTES, CHUNK_BYTES)):
            data = _AUDIO[start : start + CHUNK_BYTES]
            await chunks.insert_one({"files_id": file_id, "n": number, "data": data})
        await files.insert_one(
            {
                "_id": file_id,
                "length": FILE_BYTES,
                "chunkSize": CHUNK_BYTES,
                "uploadDate": datetime.now(UTC),
                "filename": BENCH_NAME,
                "metadata": {"ownerId": str(ctx.admin.user_id), "lessonId": lesson},
            }
        )

    return upload


async def _downloadable(ctx: RunContext, db: Databases) -> list[str]:
    """A few 5 MB files, uploaded through the bucket with the metadata the API reads."""
    bucket, lesson = _bucket(db), await _lesson(db)
    course = await db.pool.fetchval("SELECT course_id FROM lessons WHERE id = $1", lesson)
    ids = []
    for _ in range(DOWNLOADABLE):
        file_id = str(uuid.uuid4())
        stream = bucket.open_upload_stream_with_id(file_id, BENCH_NAME)
        await stream.write(_AUDIO)
        await stream.set(
            "metadata",
            {
                "ownerId": str(ctx.admin.user_id),
                "purpose": "lesson_media",
                "contentType": "audio/mpeg",
                "sha256": "bench",
                "lessonId": str(lesson),
                "courseId": str(course),
                "enrollmentId": None,
            },
        )
        await stream.close()
        ids.append(file_id)
    return ids


async def download_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    ids = await _downloadable(ctx, db)
    listed = ctx.env.run_dir / "file-ids.txt"
    listed.write_text("".join(f"{i}\n" for i in ids))
    return WrkPlan("files_download.lua", (str(listed), ctx.admin.token))


async def download_floor(ctx: RunContext, db: Databases) -> Any:
    bucket = _bucket(db)
    ids = await _downloadable(ctx, db)

    async def download(rng: random.Random) -> None:
        stream = await bucket.open_download_stream(ids[rng.randrange(len(ids))])
        read = 0
        while chunk := await stream.readchunk():
            read += len(chunk)
        if read != FILE_BYTES:
            raise RuntimeError(f"read {read} bytes of {FILE_BYTES}")

    return download


async def remove_files(db: Databases) -> None:
    """Every file this scenario (or its floor) wrote: the data set had none."""
    files = db.mongo[f"{BUCKET}.files"]
    ids = [d["_id"] async for d in files.find({"filename": BENCH_NAME}, {"_id": 1})]
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        await db.mongo[f"{BUCKET}.chunks"].delete_many({"files_id": {"$in": batch}})
        await files.delete_many({"_id": {"$in": batch}})


UPLOAD = Scenario(
    key="j",
    title="upload a 5 MB audio file (lesson media)",
    route=Route("POST", "/api/files"),
    datasets=("users", "courses"),
    wrk=upload_plan,
    floor=upload_floor,
    cleanup=remove_files,
    facts=_facts,
    concurrency=CONCURRENCY,
)

DOWNLOAD = Scenario(
    key="k",
    title="download a 5 MB audio file",
    route=Route("GET", "/api/files/{file_id}"),
    datasets=("users", "courses"),
    wrk=download_plan,
    floor=download_floor,
    cleanup=remove_files,
    facts=_facts,
    concurrency=CONCURRENCY,
)
