"""Deliver an audit entry recorded in a PostgreSQL transaction to MongoDB's audit_logs.

One step, keyed by the outbox row's id: delivering twice stores it once. It never compensates;
it retries until MongoDB takes it. If a user the entry is about is erased or being erased, it
is delivered pseudonymised (audit/service.py)."""

from __future__ import annotations

from oneenglish.audit import service as audit
from oneenglish.audit.schemas import DELIVER_AUDIT, AuditEntry
from oneenglish.sagas.workflow import (
    ForErasedUsers,
    OnFailure,
    Step,
    StepContext,
    Workflow,
    register,
)


async def _deliver(context: StepContext[AuditEntry]) -> None:
    await audit.deliver(context.mongo, str(context.saga_id), context.payload, context.erased)


WORKFLOW = register(
    Workflow(
        kind=DELIVER_AUDIT,
        steps=(Step("deliver", _deliver),),
        on_failure=OnFailure.RETRY,
        # The event stays when its user is erased: delivered pseudonymised.
        for_erased_users=ForErasedUsers.RUN,
    )
)
