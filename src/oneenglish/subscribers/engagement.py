"""What the platform does when something happens to a learner: notify them, and run the
achievements engine (whose awards notify them too). Subscribers of domain events, each
idempotent per event id: a redelivered event changes nothing it already changed."""

from __future__ import annotations

import asyncio

from oneenglish.achievements import service as achievements
from oneenglish.db.mongo import Database
from oneenglish.events import service as events
from oneenglish.notifications import service as notifications
from oneenglish.user_settings import service as user_settings

_MESSAGES = {
    events.ENROLLED: (
        notifications.ENROLLED,
        "You are enrolled",
        "Welcome to {courseTitle}. Your first lesson is waiting.",
    ),
    events.LESSON_COMPLETED: (
        notifications.LESSON_COMPLETED,
        "Lesson completed",
        "Well done! Your course progress is now {progress}%.",
    ),
    events.COURSE_COMPLETED: (
        notifications.COURSE_COMPLETED,
        "Course completed",
        "Congratulations, you completed {courseTitle}!",
    ),
}


async def notify_learner(mongo: Database, event: events.DomainEvent) -> None:
    kind, title, template = _MESSAGES[event.type]
    channels = await user_settings.channels_of(mongo, event.user_id)
    if channels.of(kind) == "off":
        return
    message = template.format_map({k: str(v) for k, v in event.data.items()})
    await notifications.notify(
        mongo,
        f"event:{event.id}",
        event.user_id,
        kind,
        title,
        message,
        event.data,
        at=event.occurred_at,
        cause=event.id,
    )


async def award_achievements(mongo: Database, event: events.DomainEvent) -> None:
    earned = await achievements.evaluate(mongo, event)
    if not earned:
        return
    channels = await user_settings.channels_of(mongo, event.user_id)
    if channels.of(notifications.ACHIEVEMENT_EARNED) == "off":
        return
    await asyncio.gather(
        *(
            notifications.notify(
                mongo,
                f"achievement:{achievement['_id']}",
                event.user_id,
                notifications.ACHIEVEMENT_EARNED,
                "Achievement unlocked",
                f"{achievement['title']} (+{achievement['points']} points)",
                {"achievementId": achievement["_id"], "type": achievement["type"]},
                at=event.occurred_at,
                cause=event.id,
            )
            for achievement in earned
        )
    )


for _event_type in _MESSAGES:
    events.subscribe(_event_type, notify_learner)
for _event_type in (
    events.LESSON_COMPLETED,
    events.COURSE_COMPLETED,
    events.QUIZ_PERFECT,
    events.QUIZ_SUBMITTED,
):
    events.subscribe(_event_type, award_achievements)
