"""The use cases that write both databases, one module each, readable top to bottom: the
PostgreSQL change and the saga's intent in one transaction, then the MongoDB steps (a saga,
sagas/), or MongoDB writes under a share lock on the users they belong to (live_users.py).
Reads that combine the databases are in views/, event subscribers in subscribers/, jobs in
jobs/."""

from __future__ import annotations

import importlib

WORKFLOW_MODULES = (
    "oneenglish.workflows.deliver_audit",
    "oneenglish.workflows.dispatch_event",
    "oneenglish.workflows.deliver_mail",
    "oneenglish.workflows.request_password_reset",
    "oneenglish.workflows.register_user",
    "oneenglish.workflows.erase_user",
    "oneenglish.workflows.create_lesson",
    "oneenglish.workflows.delete_lesson",
    "oneenglish.workflows.delete_course",
    "oneenglish.workflows.leave_course",
    "oneenglish.workflows.record_progress",
    "oneenglish.workflows.submit_quiz",
    # Subscribers register themselves with the events they handle when imported: a recovered
    # event must find them in a process that serves no request (`oneenglish worker`).
    "oneenglish.subscribers.engagement",
)


def load_all() -> None:
    """Import every workflow so the saga runner knows each kind it may have to recover."""
    for module in WORKFLOW_MODULES:
        importlib.import_module(module)
