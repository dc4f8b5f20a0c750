"""The achievements engine: fed by domain events, awarding each achievement once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from oneenglish.achievements import repository, rules
from oneenglish.achievements.schemas import AchievementOut, AchievementPage, StreakOut
from oneenglish.core import clock
from oneenglish.core.cursors import CursorCodec, older_than
from oneenglish.db.mongo import Database, MongoDocument
from oneenglish.events import service as events
from oneenglish.user_settings import service as user_settings


async def award(
    mongo: Database, user_id: str, award: rules.Award, event: events.DomainEvent
) -> MongoDocument | None:
    """The achievement if this event earned it (now, or in an earlier try of the same event);
    None if another event earned it first."""
    achievement_id = f"{user_id}:{award.key}"
    document = {
        "_id": achievement_id,
        "userId": user_id,
        "type": award.type,
        "title": award.title,
        "points": award.points,
        "courseId": award.course_id,
        "metadata": award.metadata,
        "eventId": event.id,
        "earnedAt": event.occurred_at,
    }
    if await repository.insert_once(mongo, document):
        return document
    existing = await repository.get(mongo, achievement_id)
    return existing if existing is not None and existing.get("eventId") == event.id else None


async def evaluate(mongo: Database, event: events.DomainEvent) -> list[MongoDocument]:
    """Every achievement this event earns, awarded once per user and key however often or
    concurrently events arrive. A retried event finds the awards it made before, so what
    follows an award (its notification) happens even if the first try stopped half-way."""
    user_id = event.user_id
    candidates = rules.awards_for(event)
    if rules.counts_as_study(event):
        # The learner's day, in their time zone: a lesson at 23:30 in Madrid is that day's.
        zone = await user_settings.time_zone_of(mongo, user_id)
        day = event.occurred_at.astimezone(zone).date()
        await repository.add_study_day(mongo, user_id, day.isoformat(), event.occurred_at)
        window_start = (day - timedelta(days=max(rules.STREAKS) - 1)).isoformat()
        days = await repository.study_days_since(mongo, user_id, window_start)
        candidates += rules.streak_awards(rules.streak_length(days, day))
    earned = [d for a in candidates if (d := await award(mongo, user_id, a, event)) is not None]
    if earned:
        points = await repository.total_points(mongo, user_id)
        for milestone in rules.milestone_awards(points):
            document = await award(mongo, user_id, milestone, event)
            if document is not None:
                earned.append(document)
    return earned


async def streak_of(mongo: Database, user_id: uuid.UUID) -> StreakOut:
    """Days studied (a completed lesson or a quiz attempt), counted in the learner's time zone
    as the achievements count them."""
    zone, days = await asyncio.gather(
        user_settings.time_zone_of(mongo, str(user_id)),
        repository.study_days_since(mongo, str(user_id), ""),
    )
    today = clock.now().astimezone(zone).date()
    return StreakOut(
        current=rules.current_streak(days, today),
        longest=rules.longest_streak(days),
        today_done=today.isoformat() in days,
        today=today,
        time_zone=zone.key,
        last_study_day=max(days) if days else None,
        days_studied=len(days),
    )


async def of_user(
    mongo: Database, codec: CursorCodec, user_id: uuid.UUID, cursor: str | None, limit: int
) -> AchievementPage:
    after = None
    if cursor:
        timestamp, last_id = codec.decode(cursor)
        after = older_than(timestamp, last_id, field="earnedAt")
    documents = await repository.page(mongo, str(user_id), after, limit + 1)
    more = len(documents) > limit
    documents = documents[:limit]
    return AchievementPage(
        items=[to_out(d) for d in documents],
        total_points=await repository.total_points(mongo, str(user_id)),
        next_cursor=codec.encode(documents[-1]["earnedAt"], documents[-1]["_id"]) if more else None,
    )


async def top_learners(
    mongo: Database, course_id: uuid.UUID | None, limit: int
) -> list[tuple[str, int]]:
    return await repository.top_by_points(mongo, str(course_id) if course_id else None, limit)


def to_out(document: MongoDocument) -> AchievementOut:
    return AchievementOut(
        id=document["_id"],
        type=document["type"],
        title=document["title"],
        points=document["points"],
        course_id=document.get("courseId"),
        metadata=document.get("metadata", {}),
        earned_at=document["earnedAt"],
    )
