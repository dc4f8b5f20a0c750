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


MongoAction = Callable[[StepContext], Awaitable[None]]
PostgresAction = Callable[[AsyncSession, StepContext], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """A MongoDB step. Both directions must be idempotent (keyed upserts, deletes by key,
    inserts with a fixed `_id`): the runner may repeat either after a crash."""

    name: str
    forward: MongoAction
    backward: MongoAction | None = None


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


_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    _REGISTRY[workflow.kind] = workflow
    return workflow


def workflow_for(kind: str) -> Workflow:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no workflow registered for saga kind {kind!r}") from None
