"""Dispatch a domain event to its subscribers (notifications, achievements, …).

One step: every subscriber of the event's type, together. Each is idempotent per event id, so
a retry after a partial failure repeats nothing that already happened."""

from __future__ import annotations

import asyncio

from oneenglish.events import service as events
from oneenglish.events.service import DISPATCH_EVENT, EventPayload
from oneenglish.sagas.workflow import OnFailure, Step, StepContext, Workflow, register


async def _dispatch(context: StepContext[EventPayload]) -> None:
    event = events.from_payload(context.saga_id, context.payload)
    await asyncio.gather(
        *(handle(context.mongo, event) for handle in events.subscribers_of(event.type))
    )


WORKFLOW = register(
    Workflow(
        kind=DISPATCH_EVENT,
        steps=(Step("dispatch", _dispatch),),
        on_failure=OnFailure.RETRY,
    )
)
