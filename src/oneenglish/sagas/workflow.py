"""How a use case that writes both databases is described to the runner."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db.mongo import Database
from oneenglish.settings import Settings


@dataclass(frozen=True)
class StepContext:
    saga_id: uuid.UUID
    payload: dict[str, Any]
    mongo: Database
    settings: Settings
    # Which of the saga's users are erased or being erased (checked under a share lock on the
    # rows of the others, held while the steps run); only workflows that run for them see any.
    erased: frozenset[str] = frozenset()


MongoAction = Callable[[StepContext], Awaitable[None]]
PostgresAction = Callable[[AsyncSession, StepContext], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """A MongoDB step. Both directions must be idempotent (keyed upserts, deletes by key,
    inserts with a fixed `_id`): the runner may repeat either after a crash."""

    name: str
    forward: MongoAction
    backward: MongoAction | None = None


class ForErasedUsers(Enum):
    """What a saga does when one of its users (Saga.user_ids) is erased or being erased."""

    # Nothing: a write of their data would outlive the erasure. The steps are marked skipped
    # and the payload scrubbed.
    SKIP = "skip"
    # Run anyway, told which users are erased (StepContext.erased): for what must still happen
    # without their personal data, such as delivering an audit entry pseudonymised.
    RUN = "run"


class OnFailure(Enum):
    # Undo the PostgreSQL change and the MongoDB steps (the seed's semantics: all or nothing).
    COMPENSATE = "compensate"
    # Keep retrying forward: for what cannot be undone (an erasure) or must arrive (an event).
    RETRY = "retry"


@dataclass(frozen=True)
class Workflow:
    kind: str
    steps: tuple[Step, ...]
    on_failure: OnFailure
    # PostgreSQL work that completes the saga, in the transaction that marks it completed.
    complete: PostgresAction | None = None
    # PostgreSQL compensation, in the transaction that starts compensating.
    undo: PostgresAction | None = None
    # Recovery retries forward this many times before compensating (COMPENSATE only).
    max_forward_attempts: int = 10
    for_erased_users: ForErasedUsers = ForErasedUsers.SKIP


_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    _REGISTRY[workflow.kind] = workflow
    return workflow


def workflow_for(kind: str) -> Workflow:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no workflow registered for saga kind {kind!r}") from None
