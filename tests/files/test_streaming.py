"""An upload is held a chunk at a time, never whole: Python's own allocations while a 30 MB
file streams through the API into GridFS stay within a few chunks (tracemalloc counts them
exactly; no timing is involved)."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import TestUser, make_course, make_lesson

FILE_BYTES = 30 * 1024 * 1024
PIECE = 64 * 1024
BOUNDARY = "streamtestboundary"


async def test_a_large_upload_is_never_held_whole(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser
) -> None:
    course = await make_course(client, teacher)
    lesson = await make_lesson(client, teacher, course["id"])
    noise = os.urandom(PIECE)

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n'
        ).encode() + b"ID3\x04\x00\x00\x00\x00\x00\x00"
        for _ in range(FILE_BYTES // PIECE):
            yield noise
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    tracemalloc.start()
    try:
        response = await client.post(
            f"/api/files?purpose=lesson_media&lesson_id={lesson['id']}",
            headers={
                **teacher.headers,
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            content=body(),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, response.text
    uploaded: dict[str, Any] = response.json()
    assert uploaded["size"] == FILE_BYTES + 10
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 30 MiB upload"
