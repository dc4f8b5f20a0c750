"""The courses data set: the published catalogue, its lessons and their content, in bulk.

PostgreSQL: `courses` (published, levels A1–C2 in turn, a few prices, unique `bench-c…` slugs,
created over two years, one in five by the bench administrator and the others by nobody, as
courses whose teacher was erased are kept) and `lessons` (20 per course, published, in order
1..20, slug unique per course). MongoDB: `lesson_contents`, one document per lesson with
`_id` = `lessonId` = the lesson id, as `content/repository.py::replace` stores it: the body,
steps, resources and exercises of `ContentIn` in its stored form (`content.to_document`, answer
keys included), then `version` and `updatedAt`. Every lesson has three to five steps whose ids
start with `STEP_IDS[:3]`, and four exercises, one of each type.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.data import DataSet
from bench.data.bulk import insert_all, recreate
from bench.data.scales import Scale
from bench.databases import Databases
from bench.environment import ADMIN_EMAIL
from oneenglish.content.models import COLLECTION as CONTENTS
from oneenglish.content.schemas import ContentIn
from oneenglish.content.service import to_document
from oneenglish.courses.models import LEVELS

SLUG_PATTERN = "bench-c%"  # SQL LIKE: every loaded course, and nothing else
# Every lesson's steps, in order; each lesson has the first three and up to two more.
STEP_IDS = ("warm-up", "presentation", "practice", "production", "review")
STEPS_IN_EVERY_LESSON = 3

TOPICS = (
    "Everyday conversations",
    "Business emails",
    "Travel English",
    "Job interviews",
    "Pronunciation clinic",
    "Phrasal verbs",
    "Academic writing",
    "Listening to podcasts",
    "Grammar in use",
    "Presentations at work",
    "English for healthcare",
    "Storytelling",
    "Idioms and expressions",
    "Exam preparation",
    "Negotiation skills",
    "Reading the news",
)
LESSON_TOPICS = (
    "Greetings and small talk",
    "The present simple",
    "Asking for directions",
    "Past experiences",
    "Making plans",
    "Comparatives",
    "Polite requests",
    "Describing people",
    "Giving advice",
    "Future forms",
    "Conditionals",
    "Reported speech",
    "Opinions and agreement",
    "Numbers and dates",
    "Telephone English",
    "Modal verbs",
    "Linking words",
    "The passive voice",
    "Review and practice",
    "Final project",
)
PRICES = tuple(Decimal(p) for p in ("0.00", "9.99", "19.99", "29.99", "49.00", "79.50"))
PARAGRAPHS = (
    "In this lesson we look at how native speakers use this structure in everyday situations, "
    "from short conversations at work to messages between friends.",
    "Read the dialogue below twice. The first time, read for the general idea; the second "
    "time, underline every verb and notice the form it takes.",
    "A common mistake is to translate word for word from your own language. Instead, learn "
    "the whole phrase as a unit, with the words that usually come before and after it.",
    "Listen to the recording and repeat each sentence after the speaker. Pay attention to "
    "the stressed syllables and to the way some words are linked together.",
    "Now write five sentences about your own life using what you have learned. Share them "
    "with a partner or record yourself reading them aloud.",
    "Remember: accuracy comes with practice. Come back to this lesson in a week and try the "
    "exercises again without looking at your notes.",
)


def slugified(text: str) -> str:
    return "-".join("".join(c for c in w.lower() if c.isalnum()) for w in text.split())


async def present(db: Databases) -> int:
    count: int = await db.pool.fetchval(
        "SELECT count(*) FROM courses WHERE slug LIKE $1", SLUG_PATTERN
    )
    return count


async def wipe(db: Databases) -> None:
    async with db.pool.acquire() as conn, conn.transaction():
        # Enrollments keep a course from being deleted (RESTRICT); their data set is loaded
        # again after this one anyway. Lessons and lesson activity go by cascade.
        await conn.execute(
            "DELETE FROM enrollments WHERE course_id IN "
            "(SELECT id FROM courses WHERE slug LIKE $1)",
            SLUG_PATTERN,
        )
        await conn.execute("DELETE FROM courses WHERE slug LIKE $1", SLUG_PATTERN)
    # Nothing else writes lesson content in the bench database.
    await recreate(db, CONTENTS)


async def load(db: Databases, scale: Scale) -> None:
    admin = await db.pool.fetchval("SELECT id FROM users WHERE email = $1", ADMIN_EMAIL)
    rng = random.Random(11)
    now = datetime.now(UTC)
    courses: list[tuple[Any, ...]] = []
    lessons: list[tuple[Any, ...]] = []
    for index in range(scale.courses):
        course_id = uuid.uuid4()
        topic = TOPICS[index % len(TOPICS)]
        level = LEVELS[index % len(LEVELS)]
        created = now - timedelta(seconds=rng.uniform(30 * 86_400, 730 * 86_400))
        courses.append(
            (
                course_id,
                f"{topic} {level} · {index // len(TOPICS) + 1}",
                f"bench-c{index:05d}-{slugified(topic)}-{level.lower()}",
                f"{topic} for {level} learners: {rng.choice(PARAGRAPHS)}",
                level,
                rng.choice(PRICES),
                True,
                admin if index % 5 == 0 else None,
                created,
                created,
            )
        )
        for order in range(1, scale.lessons_per_course + 1):
            lesson_topic = LESSON_TOPICS[(order - 1) % len(LESSON_TOPICS)]
            lesson_created = created + timedelta(minutes=order)
            lessons.append(
                (
                    uuid.uuid4(),
                    course_id,
                    f"Lesson {order}: {lesson_topic}",
                    f"lesson-{order:02d}-{slugified(lesson_topic)}",
                    order,
                    rng.choice((10, 15, 20, 25, 30, 45)),
                    True,
                    lesson_created,
                    lesson_created,
                )
            )
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table(
            "courses",
            records=courses,
            columns=[
                "id",
                "title",
                "slug",
                "description",
                "level",
                "price",
                "is_published",
                "created_by",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "lessons",
            records=lessons,
            columns=[
                "id",
                "course_id",
                "title",
                "slug",
                "order",
                "duration_minutes",
                "is_published",
                "created_at",
                "updated_at",
            ],
        )
    await insert_all(db, CONTENTS, _contents(lessons, rng))


def _contents(lessons: list[tuple[Any, ...]], rng: random.Random) -> Iterator[dict[str, Any]]:
    for lesson_id, course_id, title, _slug, order, _minutes, _published, _, updated in lessons:
        key = str(lesson_id)
        yield {
            "_id": key,
            "lessonId": key,
            "courseId": str(course_id),
            **to_document(ContentIn.model_validate(_content(title, order, rng))),
            "version": 1,
            "updatedAt": updated + timedelta(minutes=5),
        }


def _content(title: str, order: int, rng: random.Random) -> dict[str, Any]:
    paragraphs = rng.sample(PARAGRAPHS, 4)
    steps = STEP_IDS[: rng.randint(STEPS_IN_EVERY_LESSON, len(STEP_IDS))]
    return {
        "body": {
            "type": "doc",
            "content": [
                {"type": "heading", "level": 2, "text": title},
                *({"type": "paragraph", "text": p} for p in paragraphs[:3]),
                {
                    "type": "bulletList",
                    "items": [
                        {"type": "listItem", "text": "Read the examples aloud."},
                        {"type": "listItem", "text": "Note three new words."},
                        {"type": "listItem", "text": "Use them in a sentence of your own."},
                    ],
                },
                {"type": "callout", "tone": "tip", "text": paragraphs[3]},
            ],
        },
        "steps": [{"id": s, "title": s.replace("-", " ").capitalize()} for s in steps],
        "resources": [
            {
                "type": "audio",
                "title": f"Dialogue for lesson {order}",
                "url": f"https://cdn.example.com/audio/lesson-{order:02d}.mp3",
                "mime_type": "audio/mpeg",
                "size_bytes": rng.randint(400_000, 4_000_000),
                "duration_seconds": rng.randint(40, 300),
            },
            {
                "type": "link",
                "title": "Grammar reference",
                "url": "https://learn.example.com/grammar/reference",
            },
        ],
        "exercises": [
            {
                "type": "multiple_choice",
                "id": "mc1",
                "prompt": "She ___ to work by bus every day.",
                "options": [
                    {"id": "a", "text": "go"},
                    {"id": "b", "text": "goes"},
                    {"id": "c", "text": "going"},
                ],
                "correct_option_id": "b",
                "points": 2,
            },
            {
                "type": "fill_in_blank",
                "id": "fb1",
                "prompt": "I {{blank}} English and she {{blank}} French.",
                "blanks": [{"accepted": ["speak"]}, {"accepted": ["speaks"]}],
                "points": 2,
            },
            {
                "type": "matching",
                "id": "m1",
                "prompt": "Match the opposites",
                "left": [{"id": "hot", "text": "hot"}, {"id": "big", "text": "big"}],
                "right": [{"id": "cold", "text": "cold"}, {"id": "small", "text": "small"}],
                "pairs": {"hot": "cold", "big": "small"},
            },
            {
                "type": "free_text",
                "id": "ft1",
                "prompt": "Describe your morning routine in three sentences.",
                "accepted_answers": ["I wake up and eat breakfast"],
            },
        ],
    }


DATASET = DataSet(
    name="courses",
    expected=lambda scale: scale.courses,
    present=present,
    load=load,
    wipe=wipe,
)
