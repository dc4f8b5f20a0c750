"""`oneenglish seed-demo`: a school with a history, made through the application itself.

1. Refuse a database with real users (accounts outside the demo domain, administrators aside)
   unless forced, and refuse production outright.
2. A demo administrator and one teacher per course (the register_user workflow, as the
   tests' factories do), then the catalogue of demo/catalogue.py through the HTTP API:
   courses, lessons with content, published.
3. N learners (Faker, seeded: the same learners on every machine), each with a profile and
   settings, enrolled in one to three courses near their CEFR level and studying on runs of
   consecutive days over the last 60 days: progress, quiz attempts, completions. Every call
   goes through the API in-process (httpx's ASGI transport), inside `clock.simulated(day)`, so
   the events, streaks, achievements, notifications and leaderboards are the real engine's.
4. Course rooms and direct conversations between learners who share a course, and their
   teachers.

Idempotent: a course whose slug exists and a learner whose email exists are left as they are
(a learner interrupted half-way keeps what was made), so a second run adds nothing and a run
with a larger `--learners` adds only the new ones. Reconcile is clean afterwards: nothing here
writes a database except through the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any

import httpx
from faker import Faker
from fastapi import FastAPI

from oneenglish.app import create_app
from oneenglish.core import clock
from oneenglish.core.context import Actor
from oneenglish.courses import service as courses
from oneenglish.db import rls
from oneenglish.demo.catalogue import COURSES, CourseSpec, LessonSpec, answers_for, lesson_body
from oneenglish.payments import events as stripe_events
from oneenglish.rbac.defaults import ADMIN_ROLE
from oneenglish.settings import Settings
from oneenglish.users import service as users
from oneenglish.workflows.register_user import register_user

DEMO_DOMAIN = "demo.oneenglish.dev"
# Every demo account's password (printed in the summary and the README): demo data only.
DEMO_PASSWORD = "Learn-English-2026"  # noqa: S105
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
HISTORY_DAYS = 60
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
# Most learners of a school are beginners and intermediates.
LEVEL_WEIGHTS = (26, 24, 22, 14, 9, 5)
CONCURRENT_LEARNERS = 4
PASS_MARK = 70  # percent
FAKER_SEED = 2026


class DemoRefused(Exception):
    """seed-demo will not write to this database; the message says why."""


@dataclass
class DemoReport:
    courses_created: int = 0
    courses_existing: int = 0
    lessons_created: int = 0
    teachers_created: int = 0
    learners_created: int = 0
    learners_existing: int = 0
    enrollments: int = 0
    progress_updates: int = 0
    quiz_attempts: int = 0
    lessons_completed: int = 0
    messages: int = 0
    seconds: float = 0.0


@dataclass
class SeededCourse:
    spec: CourseSpec
    id: str
    teacher: Account
    lesson_ids: list[str]


@dataclass
class Account:
    id: str
    email: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Learner:
    account: Account
    index: int
    level: str
    enrolled: list[SeededCourse] = field(default_factory=list)


Step = Callable[[str, int], None]  # (phase, how many more done)


class DemoSeeder:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, report: DemoReport) -> None:
        self.app = app
        self.client = client
        self.report = report

    async def call(self, method: str, url: str, account: Account, **kwargs: Any) -> Any:
        headers = {**account.headers, **kwargs.pop("headers", {})}
        response = await self.client.request(method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"seed-demo: {method} {url} -> {response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    async def join(self, course: SeededCourse, account: Account) -> None:
        """Enrol: a free course at once; a paid one bought as a learner would, through the
        checkout and Stripe's signed event saying it was paid (stripe-mock sends none)."""
        if Decimal(course.spec.price) == 0:
            await self.call("POST", f"/api/courses/{course.id}/enrollments", account)
            return
        bought = await self.call("POST", f"/api/courses/{course.id}/checkout", account, json={})
        body, signature = stripe_events.signed(
            stripe_events.event(
                "checkout.session.completed", stripe_events.checkout_session(bought["order"])
            ),
            self.app.state.settings.webhook_secret,
        )
        await self.call(
            "POST",
            "/api/payments/webhook",
            account,
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )

    # -- accounts --------------------------------------------------------------------------

    async def account(
        self, email: str, username: str, names: tuple[str, str], roles: Sequence[str]
    ) -> tuple[Account, bool]:
        """The account with this email, registered now if missing (True), logged in."""
        async with self.app.state.sessionmaker() as db:
            existing = await users.find_by_email(db, email)
            created = existing is None
            if existing is None:
                user = await register_user(
                    db,
                    self.app.state.saga_runner,
                    Actor.system(),
                    users.NewUser(email, username, DEMO_PASSWORD, *names),
                    roles,
                )
                user_id = str(user.id)
            else:
                user_id = str(existing.id)
        account = Account(user_id, email)
        tokens = await self.call(
            "POST", "/api/auth/login", account, json={"email": email, "password": DEMO_PASSWORD}
        )
        account.token = tokens["access_token"]
        return account, created

    # -- the catalogue ---------------------------------------------------------------------

    async def course(self, spec: CourseSpec, opened: datetime) -> SeededCourse:
        first, last = spec.teacher
        teacher, created = await self.account(
            f"{first}.{last}@{DEMO_DOMAIN}".lower(),
            f"{first}{last}".lower(),
            (first, last),
            ("teacher",),
        )
        self.report.teachers_created += created
        async with self.app.state.sessionmaker() as db:
            existing = await courses.find_by_slug(db, spec.slug)
        if existing is not None:
            self.report.courses_existing += 1
            lessons = await self.call("GET", f"/api/courses/{existing.id}/lessons", teacher)
            return SeededCourse(spec, str(existing.id), teacher, [x["id"] for x in lessons])
        with clock.simulated(opened):
            course = await self.call(
                "POST",
                "/api/courses",
                teacher,
                json={
                    "title": spec.title,
                    "slug": spec.slug,
                    "level": spec.level,
                    "price": spec.price,
                    "description": f"{spec.skill} · {spec.description}",
                },
            )
            lesson_ids = []
            for lesson in spec.lessons:
                made = await self.call(
                    "POST",
                    f"/api/courses/{course['id']}/lessons",
                    teacher,
                    json={
                        "title": lesson.title,
                        "duration_minutes": lesson.minutes,
                        "is_published": True,
                        "content": lesson_body(lesson, spec),
                    },
                )
                lesson_ids.append(made["id"])
            await self.call("POST", f"/api/courses/{course['id']}/publish", teacher)
            await self.call(
                "POST",
                f"/api/chat/rooms/{course['id']}/messages",
                teacher,
                json={"message": f"Welcome to {spec.title}! Ask your questions here."},
            )
        self.report.courses_created += 1
        self.report.lessons_created += len(lesson_ids)
        self.report.messages += 1
        return SeededCourse(spec, course["id"], teacher, lesson_ids)

    # -- learners --------------------------------------------------------------------------

    async def learner(
        self, index: int, catalogue: list[SeededCourse], today: date
    ) -> Learner | None:
        """One learner and their history; None if they exist already."""
        rng = random.Random(FAKER_SEED * 100_003 + index)  # noqa: S311 (made-up data)
        fake = Faker("en_GB")
        fake.seed_instance(FAKER_SEED + index)
        first, last = fake.first_name(), fake.last_name()
        email = f"learner{index:04d}@{DEMO_DOMAIN}"
        username = f"{first}{last}{index}".lower().replace("'", "")[:30]
        async with self.app.state.sessionmaker() as db:
            if await users.find_by_email(db, email) is not None:
                self.report.learners_existing += 1
                return None
        account, _ = await self.account(email, username, (first, last), ("student",))
        self.report.learners_created += 1
        level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
        learner = Learner(account, index, level)
        await self.call(
            "PATCH",
            "/api/me/profile",
            account,
            json={
                "bio": f"Learning English for {rng.choice(REASONS)}. Level {level}.",
                "city": fake.city(),
                "date_of_birth": fake.date_of_birth(minimum_age=16, maximum_age=70).isoformat(),
                "preferences": {
                    "goal": rng.choice(REASONS),
                    "dailyMinutes": rng.choice((10, 15, 20, 30)),
                },
            },
        )
        await self.call(
            "PATCH",
            "/api/me/settings",
            account,
            json={
                "settings": {
                    "timezone": rng.choice(TIMEZONES),
                    "language": "en",
                    "emailNotifications": rng.random() < 0.7,
                    "theme": rng.choice(("light", "dark", "system")),
                }
            },
        )
        started = today - timedelta(days=rng.randint(3, HISTORY_DAYS - 1))
        near = [c for c in catalogue if abs(LEVELS.index(c.spec.level) - LEVELS.index(level)) <= 1]
        for offset, course in enumerate(rng.sample(near, k=min(len(near), rng.choice((1, 1, 2))))):
            with clock.simulated(_at(started + timedelta(days=offset), rng)):
                await self.join(course, account)
            learner.enrolled.append(course)
            self.report.enrollments += 1
        await self.study(learner, rng, started, today)
        return learner

    async def study(self, learner: Learner, rng: random.Random, started: date, today: date) -> None:
        """Runs of consecutive study days (streaks) with breaks between, until today."""
        skill = rng.uniform(0.7, 0.98)  # how often a quiz is answered right
        next_lesson = {course.id: 0 for course in learner.enrolled}
        day = started + timedelta(days=len(learner.enrolled))
        while day <= today and any(next_lesson[c.id] < len(c.lesson_ids) for c in learner.enrolled):
            for _ in range(rng.choice((1, 1, 2, 3, 4, 5, 7))):
                if day > today:
                    break
                open_courses = [
                    c for c in learner.enrolled if next_lesson[c.id] < len(c.lesson_ids)
                ]
                if not open_courses:
                    return
                course = rng.choice(open_courses)
                position = next_lesson[course.id]
                passed = await self.session(learner, course, position, rng, skill, _at(day, rng))
                if passed:
                    next_lesson[course.id] += 1
                day += timedelta(days=1)
            day += timedelta(days=rng.choice((1, 2, 3, 5, 8)))

    async def session(
        self,
        learner: Learner,
        course: SeededCourse,
        position: int,
        rng: random.Random,
        skill: float,
        at: datetime,
    ) -> bool:
        """A study session on one lesson: read, practise, take the quiz; complete it if passed."""
        lesson_id = course.lesson_ids[position]
        spec = course.spec.lessons[position]
        account = learner.account
        url = f"/api/lessons/{lesson_id}"
        with clock.simulated(at):
            correct = rng.random() < skill
            result = await self.call(
                "POST",
                f"{url}/quiz",
                account,
                json={"answers": answers_for(spec, correct, _writing(spec, rng))},
            )
            passed = bool(result["percent"] >= PASS_MARK)
            await self.call(
                "PUT",
                f"{url}/progress",
                account,
                json={
                    "completed_steps": ["warm-up", "practice", *(["review"] if passed else [])],
                    "time_spent_seconds": rng.randint(6, 20) * 60,
                    "completed": passed,
                    "notes": rng.choice(NOTES),
                },
            )
        self.report.quiz_attempts += 1
        self.report.progress_updates += 1
        self.report.lessons_completed += passed
        return passed

    # -- conversations ---------------------------------------------------------------------

    async def conversations(
        self, catalogue: list[SeededCourse], learners: list[Learner], today: date, step: Step
    ) -> None:
        rng = random.Random(FAKER_SEED)  # noqa: S311 (made-up data)
        for course in catalogue:
            members = [x for x in learners if course in x.enrolled]
            if not members:
                step("chat", 1)
                continue
            day = today - timedelta(days=rng.randint(2, 20))
            for asker in rng.sample(members, k=min(3, len(members))):
                day += timedelta(days=rng.randint(0, 2))
                with clock.simulated(_at(min(day, today), rng)):
                    await self.call(
                        "POST",
                        f"/api/chat/rooms/{course.id}/messages",
                        asker.account,
                        json={"message": rng.choice(ROOM_QUESTIONS)},
                    )
            self.report.messages += min(3, len(members))
            pairs = list(zip(members[::2], members[1::2], strict=False))[:4]
            for first, second in pairs:
                at = _at(today - timedelta(days=rng.randint(0, 10)), rng)
                for n, (sender, receiver) in enumerate(
                    ((first, second), (second, first), (first, second))
                ):
                    with clock.simulated(at + timedelta(minutes=7 * n)):
                        await self.call(
                            "POST",
                            f"/api/chat/direct/{receiver.account.id}/messages",
                            sender.account,
                            json={"message": DIRECT_MESSAGES[n]},
                        )
                self.report.messages += 3
            step("chat", 1)


async def seed_demo(
    settings: Settings, learners: int, *, force: bool = False, step: Step | None = None
) -> DemoReport:
    """Seed the configured databases (already migrated); `step` follows the progress.

    One process: the databases, not this loop, set the pace on a 2-core machine (two worker
    processes made 200 learners no faster: 202 s against 165 s, with more logins)."""
    if settings.environment == "production":
        raise DemoRefused("seed-demo never writes to a production deployment (ENVIRONMENT)")
    advance: Step = step or (lambda phase, n: None)
    started = time.monotonic()
    report = DemoReport()
    async with _application(settings) as (app, client):
        await _refuse_real_users(app, force)
        seeder = DemoSeeder(app, client, report)
        await seeder.account(ADMIN_EMAIL, "demoadmin", ("Demo", "Administrator"), (ADMIN_ROLE,))
        today = datetime.now(UTC).date()
        opened = datetime.combine(today - timedelta(days=HISTORY_DAYS + 5), day_time(9), UTC)
        catalogue = []
        for spec in COURSES:
            catalogue.append(await seeder.course(spec, opened))
            advance("courses", 1)
        made: list[Learner] = []
        gate = asyncio.Semaphore(CONCURRENT_LEARNERS)

        async def one(index: int) -> None:
            async with gate:
                learner = await seeder.learner(index, catalogue, today)
            if learner is not None:
                made.append(learner)
            advance("learners", 1)

        await asyncio.gather(*(one(index) for index in range(1, learners + 1)))
        made.sort(key=lambda x: x.index)
        await seeder.conversations(catalogue, made, today, advance)
    report.seconds = time.monotonic() - started
    return report


@contextlib.asynccontextmanager
async def _application(
    settings: Settings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # Thousands of in-process requests: their access log lines would bury the progress bar.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app(settings.model_copy(update={"log_level": "WARNING"}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 0)),
            base_url="http://demo.local",
            timeout=120,
        ) as client,
    ):
        yield app, client


async def _refuse_real_users(app: FastAPI, force: bool) -> None:
    with rls.system():
        async with app.state.sessionmaker() as db:
            real = await users.count_accounts_outside(db, DEMO_DOMAIN, except_role=ADMIN_ROLE)
    if real and not force:
        raise DemoRefused(
            f"this database has {real} account(s) that are not demo accounts (administrators "
            "aside): it looks like real users' data. Seed another database, or pass --force."
        )


def _at(day: date, rng: random.Random) -> datetime:
    """A time of day a learner studies: mornings, lunch breaks and evenings."""
    hour = rng.choice((7, 8, 12, 13, 18, 19, 20, 21))
    return datetime.combine(day, day_time(hour, rng.randint(0, 59)), UTC)


def _writing(spec: LessonSpec, rng: random.Random) -> str:
    prompt, keywords = spec.writing
    used = keywords if rng.random() < 0.7 else keywords[:1]
    return f"{rng.choice(OPENINGS)} {' '.join(used)}: {prompt.lower().rstrip('?.')}."


REASONS = (
    "work",
    "travel",
    "my studies abroad",
    "job interviews",
    "the IELTS exam",
    "talking to my grandchildren",
    "films and series without subtitles",
    "a move to Canada",
)
TIMEZONES = (
    "Europe/Madrid",
    "America/Mexico_City",
    "America/Bogota",
    "America/Sao_Paulo",
    "Europe/Warsaw",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Africa/Lagos",
    "UTC",
)
NOTES = (
    "Review the irregular verbs again.",
    "The audio was fast, listen twice.",
    "Good examples, write my own tomorrow.",
    "",
)
OPENINGS = ("In my opinion,", "I think", "For me,", "Honestly,", "Well,")
ROOM_QUESTIONS = (
    "Is there a difference between 'shall' and 'will' today?",
    "Could we have more listening practice, please?",
    "When do we use 'a' and when 'the'?",
    "Thanks for the lesson, the examples really helped!",
    "Any tips for remembering phrasal verbs?",
    "Can someone explain the third exercise again?",
)
DIRECT_MESSAGES = (
    "Hi! Do you want to practise speaking together this week?",
    "Yes, great idea. Thursday evening works for me.",
    "Perfect, see you on Thursday!",
)
