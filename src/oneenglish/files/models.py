"""Files: their bytes in MongoDB GridFS (bucket `files`: `files.files` holds each file's
document, `files.chunks` its 255 KiB chunks), their facts in the file document's `metadata`:
the owner, what the file is for and what it is attached to, the content type found by reading
its first bytes, its size and SHA-256. `_id` is a UUID string of ours, so every read of a file
is a point read by `_id`.

Recording submissions (`recording_submissions`): a learner's audio answer to a lesson's
recording exercise and, once a teacher has listened, their score and comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oneenglish.db.mongo import (
    Database,
    IndexSpec,
    MongoDocument,
    Reference,
    register_indexes,
    register_reference,
)
from oneenglish.db.sharding import CollectionPlan, register_plans

BUCKET = "files"
FILES = f"{BUCKET}.files"
CHUNKS = f"{BUCKET}.chunks"
CHUNK_BYTES = 255 * 1024  # GridFS's default
SUBMISSIONS = "recording_submissions"


@dataclass(frozen=True)
class FileReference(Reference):
    """A reference from file documents: deleting a file's document (erasure, reconcile) deletes
    its chunks first, so no file's bytes outlive it (a crash in between leaves the document,
    which the retried step deletes); the export lists the files, never their bytes."""

    async def delete_of(self, mongo: Database, row_ids: Sequence[Any]) -> None:
        files = mongo[self.collection]
        ids = [d["_id"] async for d in files.find({self.field: {"$in": list(row_ids)}}, {"_id": 1})]
        if ids:
            await mongo[CHUNKS].delete_many({"files_id": {"$in": ids}})
            await files.delete_many({"_id": {"$in": ids}})

    async def documents_of(self, mongo: Database, row_id: str, limit: int) -> list[MongoDocument]:
        cursor = mongo[self.collection].find({self.field: row_id}).sort("_id", 1).limit(limit)
        return [d async for d in cursor]


register_indexes(
    # GridFS's own: chunks by file and number (unique), files by name and date.
    IndexSpec(CHUNKS, (("files_id", 1), ("n", 1)), "files_id_1_n_1", unique=True),
    IndexSpec(FILES, (("filename", 1), ("uploadDate", 1)), "filename_1_uploadDate_1"),
    IndexSpec(FILES, (("metadata.ownerId", 1),), "ix_files_owner"),
    IndexSpec(FILES, (("metadata.lessonId", 1),), "ix_files_lesson"),
    IndexSpec(FILES, (("metadata.courseId", 1),), "ix_files_course"),
    IndexSpec(FILES, (("metadata.peerId", 1),), "ix_files_peer"),
    IndexSpec(FILES, (("metadata.enrollmentId", 1),), "ix_files_enrollment"),
    IndexSpec(
        SUBMISSIONS,
        (("courseId", 1), ("status", 1), ("submittedAt", 1)),
        "ix_recording_submissions_course_status_submitted",
    ),
    IndexSpec(SUBMISSIONS, (("userId", 1), ("submittedAt", -1)), "ix_recording_submissions_user"),
    IndexSpec(SUBMISSIONS, (("lessonId", 1),), "ix_recording_submissions_lesson"),
)
register_reference(
    FileReference(FILES, "metadata.ownerId"),
    FileReference(FILES, "metadata.lessonId", table="lessons"),
    # A direct chat's attachments go with either person (as the messages do).
    FileReference(FILES, "metadata.peerId"),
    Reference(SUBMISSIONS, "userId"),
    Reference(SUBMISSIONS, "lessonId", table="lessons"),
    Reference(SUBMISSIONS, "courseId", table="courses"),
)

LIST_QUERIES = (
    (SUBMISSIONS, ("courseId", "status"), ("submittedAt",)),
    (SUBMISSIONS, ("userId",), ("submittedAt",)),
)

register_plans(
    CollectionPlan(
        CHUNKS,
        (("files_id", 1), ("n", 1)),
        "the bytes, 255 KiB a chunk: MongoDB's advice for GridFS (a file's chunks in order on "
        "one shard, files spread by their random ids)",
    ),
    CollectionPlan(FILES, None, "a small document per file; its bytes are in the chunks"),
    CollectionPlan(
        SUBMISSIONS,
        None,
        "a document per recording submitted, read by a course's pending queue whose status "
        "changes (a poor shard key): small beside the chunks that hold the audio",
    ),
)
