"""Lesson content (MongoDB): stored whole, shown with or without the answer keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from oneenglish.content import repository
from oneenglish.content.schemas import ContentIn, ContentOut, ManagedContentOut
from oneenglish.db.mongo import Database, MongoDocument


def to_document(content: ContentIn) -> dict[str, Any]:
    """The stored form: JSON-compatible, answer keys included."""
    return content.model_dump(mode="json")


async def store_content(
    mongo: Database, lesson_id: uuid.UUID, course_id: uuid.UUID, content: dict[str, Any]
) -> MongoDocument:
    return await repository.replace(mongo, str(lesson_id), str(course_id), content)


async def find_content(mongo: Database, lesson_id: uuid.UUID) -> MongoDocument | None:
    document = await repository.get(mongo, str(lesson_id))
    return None if document is None else _upgraded(document)


async def exercise_prompts(
    mongo: Database, lesson_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], str]:
    """(lesson, exercise id) -> the exercise's prompt, for the lessons given."""
    documents = await repository.exercises_of(mongo, [str(i) for i in set(lesson_ids)])
    return {
        (uuid.UUID(d["_id"]), e["id"]): e.get("prompt", "")
        for d in documents
        for e in d.get("exercises", [])
    }


def _upgraded(document: MongoDocument) -> MongoDocument:
    """Content stored before free-text answers were graded by accepted answers: a keyword is
    not an answer, so such an exercise is graded by a person (needs review) until its teacher
    gives it accepted answers; the keywords stop being stored with the next content change."""
    for exercise in document.get("exercises", []):
        if exercise.get("type") == "free_text" and "keywords" in exercise:
            exercise.pop("keywords")
            exercise.setdefault("accepted_answers", [])
    return document


async def delete_content(mongo: Database, lesson_id: uuid.UUID | str) -> None:
    await repository.delete(mongo, str(lesson_id))


async def delete_course_content(mongo: Database, course_id: uuid.UUID | str) -> None:
    await repository.delete_of_course(mongo, str(course_id))


def view(document: MongoDocument, *, with_answers: bool) -> ContentOut | ManagedContentOut:
    fields = {
        "lesson_id": document["lessonId"],
        "body": document.get("body", {}),
        "steps": document.get("steps", []),
        "resources": document.get("resources", []),
        "version": document.get("version", 1),
        "updated_at": document["updatedAt"],
    }
    exercises = document.get("exercises", [])
    if with_answers:
        return ManagedContentOut(**fields, exercises=exercises)
    return ContentOut(**fields, exercises=[_public(e) for e in exercises])


def _public(exercise: dict[str, Any]) -> dict[str, Any]:
    """Only the fields a learner may see, by construction (an allow-list, not a deny-list)."""
    shown = {k: exercise[k] for k in ("type", "id", "prompt", "points")}
    if exercise.get("audio_file_id"):
        shown["audio_file_id"] = exercise["audio_file_id"]
    match exercise["type"]:
        case "multiple_choice":
            shown["options"] = exercise["options"]
        case "fill_in_blank":
            shown["blanks"] = len(exercise["blanks"])
        case "matching":
            shown["left"], shown["right"] = exercise["left"], exercise["right"]
        case "free_text":
            shown["max_length"] = exercise["max_length"]
        case "recording":
            shown["max_seconds"] = exercise["max_seconds"]
    return shown


def item_ids(document: MongoDocument) -> set[str]:
    """Steps and exercises: what a learner can mark as done."""
    return {s["id"] for s in document.get("steps", [])} | {
        e["id"] for e in document.get("exercises", [])
    }


def recording_exercise_ids(document: MongoDocument | None) -> set[str]:
    if document is None:
        return set()
    return {e["id"] for e in document.get("exercises", []) if e["type"] == "recording"}


def file_ids(document: MongoDocument | ContentIn) -> set[str]:
    """The uploaded files a content points at: its resources' and its exercises' audio."""
    data = document if isinstance(document, dict) else document.model_dump(mode="json")
    return {str(r["file_id"]) for r in data.get("resources", []) if r.get("file_id")} | {
        str(e["audio_file_id"]) for e in data.get("exercises", []) if e.get("audio_file_id")
    }
