"""Dispatch a domain event to its subscribers (notifications, achievements, …).

One step: every subscriber of the event's type, together. Each is idempotent per event id, so
a retry after a partial failure repeats nothing that already happened. Then, in the
transaction that marks the saga completed, the notifications the event made are pushed to the
user's sockets and mailed if the user has their type mailed at once (notification_mail.py)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.events import service as events
from oneenglish.events.service import DISPATCH_EVENT, EventPayload
from oneenglish.notifications import service as notifications
from oneenglish.sagas.workflow import OnFailure, Step, StepContext, Workflow, register
from oneenglish.workflows.notification_mail import mail_at_once, push_notifications


async def _dispatch(context: StepContext[EventPayload]) -> None:
    event = events.from_payload(context.saga_id, context.payload)
    await asyncio.gather(
        *(handle(context.mongo, event) for handle in events.subscribers_of(event.type))
    )


async def _push_and_mail(db: AsyncSession, context: StepContext[EventPayload]) -> None:
    if context.erased:
        return
    user_id = context.payload.user_id
    made = await notifications.caused_by(context.mongo, user_id, str(context.saga_id))
    # The relay's transaction holds many sagas' locks: it never waits for a stream's turn
    # (StreamBusy fails this saga's pass, and the relay retries it).
    await push_notifications(db, context.mongo, uuid.UUID(user_id), made, wait=False)
    await mail_at_once(db, context.mongo, context.settings, uuid.UUID(user_id), made)


WORKFLOW = register(
    Workflow(
        kind=DISPATCH_EVENT,
        steps=(Step("dispatch", _dispatch),),
        on_failure=OnFailure.RETRY,
        complete=_push_and_mail,
    )
)
