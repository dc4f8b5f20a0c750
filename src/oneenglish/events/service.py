"""Publish domain events and subscribe to them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core import clock
from oneenglish.db.mongo import Database
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.workflow import SagaKind, SagaPayload

ENROLLED = "enrollment.created"
LESSON_COMPLETED = "lesson.completed"
COURSE_COMPLETED = "course.completed"
QUIZ_PERFECT = "quiz.perfect"
QUIZ_SUBMITTED = "quiz.submitted"


@dataclass(frozen=True)
class DomainEvent:
    id: str  # the outbox row's id: subscribers key their effects on it
    type: str
    user_id: str
    data: dict[str, Any]
    occurred_at: datetime


class EventPayload(SagaPayload):
    """A published event on its way to its subscribers: the payload of a dispatch_event saga."""

    type: str
    user_id: str
    data: dict[str, Any]
    occurred_at: datetime


DISPATCH_EVENT = SagaKind("dispatch_event", EventPayload)

Subscriber = Callable[[Database, DomainEvent], Awaitable[None]]
_SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def subscribe(event_type: str, subscriber: Subscriber) -> None:
    _SUBSCRIBERS.setdefault(event_type, []).append(subscriber)


def subscribers_of(event_type: str) -> list[Subscriber]:
    return list(_SUBSCRIBERS.get(event_type, ()))


def publish(db: AsyncSession, event_type: str, user_id: uuid.UUID, data: dict[str, Any]) -> None:
    """Add an event to the caller's transaction: it is dispatched exactly if the change commits."""
    enqueue(
        db,
        DISPATCH_EVENT,
        EventPayload(type=event_type, user_id=str(user_id), data=data, occurred_at=clock.now()),
        user_ids=[user_id],
    )


def from_payload(event_id: uuid.UUID, payload: EventPayload) -> DomainEvent:
    return DomainEvent(
        id=str(event_id),
        type=payload.type,
        user_id=payload.user_id,
        data=payload.data,
        occurred_at=payload.occurred_at,
    )
