"""How a use case that writes both databases is described to the runner.

A workflow is generic over its payload, a Pydantic model: the entry function builds it, the
runner stores it (JSON) with the intent and parses it back for every step, so the steps and the
entry function share one type that mypy checks, recovery (the path that runs least often)
included. A payload model must keep loading the rows its earlier shapes left in the log (a
default, or a `model_validator(mode="before")` that maps an old field)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.db.mongo import Database
from oneenglish.settings import Settings


class SagaPayload(BaseModel):
    """The base of every payload: immutable; fields an older shape had and this one dropped are
    ignored when an old row is loaded."""

    model_config = ConfigDict(frozen=True, extra="ignore")


P = TypeVar("P", bound=SagaPayload)


@dataclass(frozen=True)
class SagaKind(Generic[P]):
    """A kind of saga and the type of its payload: what `enqueue` takes, so that the payload
    of every intent is checked against its kind. Declared by the workflow, or by the domain
    whose outbox it is (audit entries, domain events), which the workflow then registers."""

    name: str
    payload_type: type[P]


@dataclass(frozen=True)
class StepContext(Generic[P]):
    saga_id: uuid.UUID
    payload: P
    mongo: Database
    settings: Settings
    # Which of the saga's users are erased or being erased (checked under a share lock on the
    # rows of the others, held while the steps run); only workflows that run for them see any.
    erased: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Step(Generic[P]):
    """A MongoDB step. Both directions must be idempotent (keyed upserts, deletes by key,
    inserts with a fixed `_id`): the runner may repeat either after a crash."""

    name: str
    forward: Callable[[StepContext[P]], Awaitable[None]]
    backward: Callable[[StepContext[P]], Awaitable[None]] | None = None


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


class TryLater(Exception):
    """A step or completion that could not run now for a reason that passes by itself (a lock
    another transaction holds): the relay tries the saga again shortly, without counting an
    attempt or logging an error."""


PostgresAction = Callable[[AsyncSession, StepContext[P]], Awaitable[None]]


@dataclass(frozen=True)
class Workflow(Generic[P]):
    kind: SagaKind[P]
    steps: tuple[Step[P], ...]
    on_failure: OnFailure
    # PostgreSQL work that completes the saga, in the transaction that marks it completed.
    complete: PostgresAction[P] | None = None
    # PostgreSQL compensation, in the transaction that starts compensating.
    undo: PostgresAction[P] | None = None
    # Recovery retries forward this many times before compensating (COMPENSATE only).
    max_forward_attempts: int = 10
    for_erased_users: ForErasedUsers = ForErasedUsers.SKIP

    def load(self, stored: dict[str, Any]) -> P:
        return self.kind.payload_type.model_validate(stored)


@dataclass(frozen=True)
class Enqueued(Generic[P]):
    """An intent recorded in the caller's transaction (sagas.runner.enqueue)."""

    id: uuid.UUID
    workflow: Workflow[P]
    payload: P
    user_ids: tuple[uuid.UUID, ...] = ()

    @property
    def kind(self) -> str:
        return self.workflow.kind.name


_REGISTRY: dict[str, Workflow[Any]] = {}


def register(workflow: Workflow[P]) -> Workflow[P]:
    _REGISTRY[workflow.kind.name] = workflow
    return workflow


def workflow_for(kind: str) -> Workflow[Any]:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no workflow registered for saga kind {kind!r}") from None


def registered_workflows() -> Sequence[Workflow[Any]]:
    return list(_REGISTRY.values())
