"""What the three removals across both databases share (delete_lesson.py, delete_course.py,
leave_course.py): each only moves forward (what is deleted is not restored); the PostgreSQL
side is taken out of use at once, the MongoDB documents are deleted under the saga (deletes by
key: idempotent), and the saga's completion does the remaining PostgreSQL work. If MongoDB is
down the client gets a 503 saying the removal will finish by itself, which the relay does
once MongoDB is back."""

from __future__ import annotations

from oneenglish.core.errors import Unavailable


def removal_pending(what: str) -> Unavailable:
    return Unavailable(
        f"MongoDB is unavailable. The {what} is already out of use and its removal will "
        "complete automatically once MongoDB is back.",
        database="MongoDB",
        removal="pending",
    )
