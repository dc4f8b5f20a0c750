"""Ask for a password reset link: the same answer, in the same time, whether or not an account
has the address.

1. In the request: count the request against the address (by its hash) and the client, and
   record the intent, holding the address as typed. The same statements run for every
   address, so neither the answer (202) nor its time says whether one is registered.
2. The relay, in its own transaction: find the account; if an active one has the address,
   end its earlier reset links, issue a new one and enqueue the mail
   (accounts/service.py:issue_password_reset). The address is then scrubbed from the intent.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.accounts import service as accounts
from oneenglish.core.context import Actor
from oneenglish.sagas.log import enqueue, scrub_payload
from oneenglish.sagas.workflow import (
    OnFailure,
    SagaKind,
    SagaPayload,
    StepContext,
    Workflow,
    register,
)
from oneenglish.settings import Settings


class ResetRequest(SagaPayload):
    email: str = ""


KIND = SagaKind("request_password_reset", ResetRequest)


async def _issue(db: AsyncSession, context: StepContext[ResetRequest]) -> None:
    if context.payload.email:
        await accounts.issue_password_reset(db, context.settings, context.payload.email)
    await scrub_payload(db, context.saga_id, keep=())


WORKFLOW = register(Workflow(kind=KIND, steps=(), on_failure=OnFailure.RETRY, complete=_issue))


async def request_password_reset(
    db: AsyncSession, settings: Settings, actor: Actor, email: str
) -> None:
    await accounts.throttle_reset_request(db, settings, actor.ip, email)
    enqueue(db, KIND, ResetRequest(email=email.strip().lower()))
