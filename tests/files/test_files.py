"""Files in MongoDB GridFS, through the API: streamed uploads whose type is read from their
bytes, limits per purpose, reads with ranges and ETags for those who may see the lesson, and
recordings a teacher reviews."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import TestUser, enroll, logged_in, make_course, make_lesson

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + os.urandom(40_000)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2_000)
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02" + os.urandom(5_000)
)
RECORDING_CONTENT: dict[str, object] = {
    "exercises": [
        {"type": "recording", "id": "read-aloud", "prompt": "Read the dialogue aloud."},
        {
            "type": "multiple_choice",
            "id": "mc1",
            "prompt": "She ___ to school.",
            "options": [{"id": "a", "text": "go"}, {"id": "b", "text": "goes"}],
            "correct_option_id": "b",
        },
    ]
}


@pytest.fixture
async def lesson(client: httpx.AsyncClient, teacher: TestUser) -> dict[str, Any]:
    course = await make_course(client, teacher)
    made = await make_lesson(client, teacher, course["id"], content=RECORDING_CONTENT)
    return {**made, "course_id": course["id"]}


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    lesson_id: object,
    data: bytes,
    *,
    purpose: str = "lesson_media",
    name: str = "file.bin",
    claimed: str = "application/octet-stream",
) -> httpx.Response:
    return await client.post(
        f"/api/files?purpose={purpose}&lesson_id={lesson_id}",
        headers=user.headers,
        files={"file": (name, data, claimed)},
    )


async def test_a_teachers_audio_is_stored_with_its_sniffed_type_and_read_back_whole(
    client: httpx.AsyncClient, teacher: TestUser, lesson: dict[str, Any]
) -> None:
    uploaded = await upload(client, teacher, lesson["id"], MP3, name="../../etc/intro.mp3")

    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert (body["content_type"], body["size"]) == ("audio/mpeg", len(MP3))
    assert body["sha256"] == hashlib.sha256(MP3).hexdigest()
    assert body["filename"] == "intro.mp3"
    read = await client.get(body["url"], headers=teacher.headers)
    assert read.status_code == 200
    assert read.content == MP3
    assert read.headers["content-type"] == "audio/mpeg"
    assert read.headers["etag"] == f'"{body["sha256"]}"'


async def test_a_range_request_gets_those_bytes_and_a_bad_range_a_416(
    client: httpx.AsyncClient, teacher: TestUser, lesson: dict[str, Any]
) -> None:
    url = (await upload(client, teacher, lesson["id"], MP3)).json()["url"]

    middle = await client.get(url, headers={**teacher.headers, "Range": "bytes=1000-1999"})
    tail = await client.get(url, headers={**teacher.headers, "Range": "bytes=-10"})
    outside = await client.get(url, headers={**teacher.headers, "Range": "bytes=999999-"})
    several = await client.get(url, headers={**teacher.headers, "Range": "bytes=0-1,5-6"})

    assert middle.status_code == 206
    assert middle.content == MP3[1000:2000]
    assert middle.headers["content-range"] == f"bytes 1000-1999/{len(MP3)}"
    assert tail.content == MP3[-10:]
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(MP3)}"
    assert several.status_code == 416


async def test_an_unchanged_file_is_a_304(
    client: httpx.AsyncClient, teacher: TestUser, lesson: dict[str, Any]
) -> None:
    body = (await upload(client, teacher, lesson["id"], PNG)).json()

    again = await client.get(
        body["url"], headers={**teacher.headers, "If-None-Match": f'"{body["sha256"]}"'}
    )

    assert again.status_code == 304


async def test_a_file_that_lies_about_its_type_is_refused_and_nothing_is_kept(
    app: FastAPI, client: httpx.AsyncClient, teacher: TestUser, lesson: dict[str, Any]
) -> None:
    script = b"#!/bin/sh\nrm -rf /\n" + b"x" * 5000

    response = await upload(
        client, teacher, lesson["id"], script, name="a.mp3", claimed="audio/mpeg"
    )

    assert response.status_code == 422, response.text
    assert "audio/mpeg" in response.json()["accepted"]
    assert await app.state.mongo_db["files.files"].count_documents({}) == 0
    assert await app.state.mongo_db["files.chunks"].count_documents({}) == 0


async def test_a_file_over_its_limit_is_a_413_and_nothing_is_kept(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, lesson: dict[str, Any]
) -> None:
    await enroll(client, learner, lesson["course_id"])
    limit = app.state.settings.recording_max_bytes
    too_big = MP3[:100] + b"\x00" * limit

    response = await upload(
        client, learner, lesson["id"], too_big, purpose="recording", name="me.mp3"
    )

    assert response.status_code == 413, response.text
    assert await app.state.mongo_db["files.files"].count_documents({}) == 0
    assert await app.state.mongo_db["files.chunks"].count_documents({}) == 0


async def test_who_may_upload_and_read(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    learner: TestUser,
    bob: TestUser,
    lesson: dict[str, Any],
) -> None:
    await enroll(client, learner, lesson["course_id"])
    media = (await upload(client, teacher, lesson["id"], MP3)).json()["url"]

    learner_media = await upload(client, learner, lesson["id"], MP3)
    stranger_recording = await upload(client, bob, lesson["id"], MP3, purpose="recording")
    recording = await upload(client, learner, lesson["id"], WEBM, purpose="recording")
    assert recording.status_code == 201, recording.text
    assert recording.json()["content_type"] == "audio/webm"
    mine = recording.json()["url"]

    assert learner_media.status_code == 403
    assert stranger_recording.status_code == 403
    assert (await client.get(media, headers=learner.headers)).status_code == 200
    assert (await client.get(media, headers=bob.headers)).status_code == 404
    assert (await client.get(mine, headers=teacher.headers)).status_code == 200
    assert (await client.get(mine, headers=bob.headers)).status_code == 404
    other_learner = await logged_in(app, client)
    await enroll(client, other_learner, lesson["course_id"])
    assert (await client.get(mine, headers=other_learner.headers)).status_code == 404
    assert (await client.get("/api/files/not-a-uuid", headers=teacher.headers)).status_code == 404


async def test_bad_uploads_are_clear_4xx(
    client: httpx.AsyncClient, teacher: TestUser, lesson: dict[str, Any]
) -> None:
    url = f"/api/files?purpose=lesson_media&lesson_id={lesson['id']}"
    not_multipart = await client.post(url, headers=teacher.headers, content=MP3)
    no_file = await client.post(
        url, headers=teacher.headers, data={"other": "x"}, files={"x": ("a", b"1")}
    )
    empty = await upload(client, teacher, lesson["id"], b"")
    purpose = await client.post(
        f"/api/files?purpose=banner&lesson_id={lesson['id']}",
        headers=teacher.headers,
        files={"file": ("a.png", PNG)},
    )

    assert not_multipart.status_code == 400, not_multipart.text
    assert no_file.status_code == 400, no_file.text
    assert empty.status_code == 422, empty.text
    assert purpose.status_code == 422, purpose.text
    no_lesson = await client.post(
        "/api/files?purpose=lesson_media", headers=teacher.headers, files={"file": ("a.mp3", MP3)}
    )
    both = await client.post(
        f"/api/files?purpose=chat_attachment&peer_id={teacher.id}&course_id={lesson['course_id']}",
        headers=teacher.headers,
        files={"file": ("a.mp3", MP3)},
    )
    assert no_lesson.status_code == 422, no_lesson.text
    assert both.status_code == 422, both.text


async def test_a_recording_is_submitted_reviewed_and_seen_by_its_learner(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, lesson: dict[str, Any]
) -> None:
    await enroll(client, learner, lesson["course_id"])
    recording = (await upload(client, learner, lesson["id"], MP3, purpose="recording")).json()

    submitted = await client.post(
        f"/api/lessons/{lesson['id']}/submissions",
        headers=learner.headers,
        json={"exercise_id": "read-aloud", "file_id": recording["id"]},
    )
    assert submitted.status_code == 201, submitted.text
    queue = await client.get(
        f"/api/courses/{lesson['course_id']}/submissions?status=pending", headers=teacher.headers
    )
    [waiting] = queue.json()["items"]
    reviewed = await client.post(
        f"/api/submissions/{waiting['id']}/review",
        headers=teacher.headers,
        json={"score": 80, "comment": "Clear; work on the 'th'."},
    )
    mine = await client.get("/api/me/submissions", headers=learner.headers)

    assert reviewed.status_code == 200, reviewed.text
    assert (reviewed.json()["status"], reviewed.json()["score"]) == ("reviewed", 80)
    [seen] = mine.json()["items"]
    assert (seen["score"], seen["comment"]) == (80, "Clear; work on the 'th'.")
    after = await client.get(
        f"/api/courses/{lesson['course_id']}/submissions?status=pending", headers=teacher.headers
    )
    assert after.json()["total"] == 0


async def test_bad_submissions_and_reviews_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    other_teacher: TestUser,
    learner: TestUser,
    lesson: dict[str, Any],
) -> None:
    await enroll(client, learner, lesson["course_id"])
    media = (await upload(client, teacher, lesson["id"], MP3)).json()
    recording = (await upload(client, learner, lesson["id"], MP3, purpose="recording")).json()
    url = f"/api/lessons/{lesson['id']}/submissions"

    not_recording_exercise = await client.post(
        url, headers=learner.headers, json={"exercise_id": "mc1", "file_id": recording["id"]}
    )
    someone_elses_file = await client.post(
        url, headers=learner.headers, json={"exercise_id": "read-aloud", "file_id": media["id"]}
    )
    submitted = await client.post(
        url, headers=learner.headers, json={"exercise_id": "read-aloud", "file_id": recording["id"]}
    )
    review_url = f"/api/submissions/{submitted.json()['id']}/review"
    foreign_teacher = await client.post(
        review_url, headers=other_teacher.headers, json={"score": 1}
    )
    out_of_range = await client.post(review_url, headers=teacher.headers, json={"score": 101})
    quiz = await client.post(
        f"/api/lessons/{lesson['id']}/quiz",
        headers=learner.headers,
        json={"answers": [{"type": "free_text", "exercise_id": "read-aloud", "text": "hi"}]},
    )

    assert not_recording_exercise.status_code == 422
    assert someone_elses_file.status_code == 422
    assert foreign_teacher.status_code == 403, foreign_teacher.text
    assert out_of_range.status_code == 422
    assert quiz.status_code == 422, quiz.text


async def test_files_go_with_their_lesson_and_with_their_uploaders_erasure(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    learner: TestUser,
    admin: TestUser,
    lesson: dict[str, Any],
) -> None:
    await enroll(client, learner, lesson["course_id"])
    await upload(client, teacher, lesson["id"], MP3)
    recording = (await upload(client, learner, lesson["id"], MP3, purpose="recording")).json()
    await client.post(
        f"/api/lessons/{lesson['id']}/submissions",
        headers=learner.headers,
        json={"exercise_id": "read-aloud", "file_id": recording["id"]},
    )
    exported = await client.get(f"/api/users/{learner.id}/export", headers=learner.headers)
    assert [f["_id"] for f in exported.json()["mongodb"]["files.files"]] == [recording["id"]]
    mongo = app.state.mongo_db

    erased = await client.delete(f"/api/users/{learner.id}", headers=admin.headers)
    assert erased.status_code in (200, 202, 204), erased.text
    assert await mongo["files.files"].count_documents({"metadata.ownerId": str(learner.id)}) == 0
    assert await mongo["files.chunks"].count_documents({"files_id": recording["id"]}) == 0
    assert await mongo["recording_submissions"].count_documents({}) == 0

    deleted = await client.delete(f"/api/lessons/{lesson['id']}", headers=teacher.headers)
    assert deleted.status_code in (200, 202, 204), deleted.text
    assert await mongo["files.files"].count_documents({}) == 0
    assert await mongo["files.chunks"].count_documents({}) == 0


async def test_a_lesson_resource_may_point_at_an_uploaded_file(
    client: httpx.AsyncClient, teacher: TestUser, learner: TestUser, lesson: dict[str, Any]
) -> None:
    await enroll(client, learner, lesson["course_id"])
    media = (await upload(client, teacher, lesson["id"], MP3)).json()
    exercises = RECORDING_CONTENT["exercises"]
    assert isinstance(exercises, list)
    listening = {**exercises[1], "audio_file_id": media["id"]}
    content = {
        "exercises": [exercises[0], listening],
        "resources": [{"type": "audio", "title": "Listen", "file_id": media["id"]}],
    }

    saved = await client.put(
        f"/api/lessons/{lesson['id']}/content", headers=teacher.headers, json=content
    )
    both = await client.put(
        f"/api/lessons/{lesson['id']}/content",
        headers=teacher.headers,
        json={
            "resources": [
                {"type": "audio", "title": "x", "file_id": media["id"], "url": "https://a.b/c"}
            ]
        },
    )
    view = await client.get(f"/api/lessons/{lesson['id']}", headers=learner.headers)

    assert saved.status_code == 200, saved.text
    assert both.status_code == 422
    assert view.json()["content"]["resources"][0]["file_id"] == media["id"]
    assert view.json()["content"]["exercises"][1]["audio_file_id"] == media["id"]
    assert view.json()["content"]["exercises"][0] == {
        "type": "recording",
        "id": "read-aloud",
        "prompt": "Read the dialogue aloud.",
        "max_seconds": 60,
        "points": 1,
        "audio_file_id": None,
    }


async def test_a_chat_attachment_is_sent_by_file_and_read_only_by_the_two_people(
    app: FastAPI,
    client: httpx.AsyncClient,
    teacher: TestUser,
    learner: TestUser,
    bob: TestUser,
    lesson: dict[str, Any],
) -> None:
    await enroll(client, learner, lesson["course_id"])
    uploaded = await client.post(
        f"/api/files?purpose=chat_attachment&peer_id={teacher.id}",
        headers=learner.headers,
        files={"file": ("voice.mp3", MP3, "audio/mpeg")},
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]

    sent = await client.post(
        f"/api/chat/direct/{teacher.id}/messages",
        headers=learner.headers,
        json={"message_type": "audio", "attachments": [{"file_id": file_id}]},
    )
    wrong_type = await client.post(
        f"/api/chat/direct/{teacher.id}/messages",
        headers=learner.headers,
        json={"message_type": "image", "attachments": [{"file_id": file_id}]},
    )
    elsewhere = await client.post(
        f"/api/chat/rooms/{lesson['course_id']}/messages",
        headers=learner.headers,
        json={"message_type": "audio", "attachments": [{"file_id": file_id}]},
    )
    stranger = await client.post(
        f"/api/files?purpose=chat_attachment&peer_id={teacher.id}",
        headers=bob.headers,
        files={"file": ("voice.mp3", MP3, "audio/mpeg")},
    )

    assert sent.status_code == 201, sent.text
    [attachment] = sent.json()["attachments"]
    assert (attachment["mime_type"], attachment["size_bytes"]) == ("audio/mpeg", len(MP3))
    assert attachment["name"] == "voice.mp3"
    assert wrong_type.status_code == 422, wrong_type.text
    assert elsewhere.status_code == 422, elsewhere.text
    assert stranger.status_code == 404, stranger.text
    assert (await client.get(f"/api/files/{file_id}", headers=teacher.headers)).status_code == 200
    assert (await client.get(f"/api/files/{file_id}", headers=bob.headers)).status_code == 404
    deleted = await client.delete(
        f"/api/chat/messages/{sent.json()['id']}", headers=learner.headers
    )
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/api/files/{file_id}", headers=teacher.headers)).status_code == 404


async def test_an_avatar_is_uploaded_set_and_readable_without_a_token(
    client: httpx.AsyncClient, learner: TestUser, bob: TestUser
) -> None:
    uploaded = await client.post(
        "/api/files?purpose=avatar", headers=learner.headers, files={"file": ("me.png", PNG)}
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    audio = await client.post(
        "/api/files?purpose=avatar", headers=learner.headers, files={"file": ("me.mp3", MP3)}
    )

    mine = await client.patch(
        f"/api/users/{learner.id}", headers=learner.headers, json={"avatar_file_id": file_id}
    )
    theirs = await client.patch(
        f"/api/users/{bob.id}", headers=bob.headers, json={"avatar_file_id": file_id}
    )
    anonymous = await client.get(f"/api/files/{file_id}")

    assert audio.status_code == 422
    assert mine.status_code == 200, mine.text
    assert mine.json()["avatar_url"] == f"/api/files/{file_id}"
    assert theirs.status_code == 422, theirs.text
    assert anonymous.status_code == 200
    assert anonymous.content == PNG


async def test_content_may_not_point_at_another_lessons_or_a_missing_file(
    client: httpx.AsyncClient, teacher: TestUser, lesson: dict[str, Any]
) -> None:
    other = await make_lesson(client, teacher, lesson["course_id"])
    foreign = (await upload(client, teacher, other["id"], MP3)).json()
    url = f"/api/lessons/{lesson['id']}/content"

    for file_id in (foreign["id"], "00000000-0000-4000-8000-000000000000"):
        response = await client.put(
            url,
            headers=teacher.headers,
            json={"resources": [{"type": "audio", "title": "x", "file_id": file_id}]},
        )
        assert response.status_code == 422, response.text


async def test_an_upload_still_streaming_when_its_uploader_is_erased_keeps_nothing(
    app: FastAPI, client: httpx.AsyncClient, learner: TestUser, admin: TestUser
) -> None:
    """The stream holds no lock on the uploader; its file document is written only if the
    uploader still exists, under the lock an erasure waits for (workflows/files.py)."""
    boundary = "erasure-race"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="me.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    streaming = asyncio.Event()
    erased = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield head + PNG[:1000]
        streaming.set()
        await erased.wait()  # the erasure runs while the upload is half-way
        yield PNG[1000:] + tail

    uploading = asyncio.create_task(
        client.post(
            "/api/files?purpose=avatar",
            headers={
                **learner.headers,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            content=body(),
        )
    )
    await asyncio.wait_for(streaming.wait(), 10)
    deleted = await client.delete(f"/api/users/{learner.id}", headers=admin.headers)
    assert deleted.status_code in (200, 202, 204), deleted.text
    erased.set()
    response = await uploading

    assert response.status_code == 404, response.text
    mongo = app.state.mongo_db
    assert await mongo["files.files"].count_documents({"metadata.ownerId": str(learner.id)}) == 0
    assert await mongo["files.chunks"].count_documents({}) == 0
