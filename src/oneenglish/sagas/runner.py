"""Runs sagas: first in the request that started them, then (after a crash, an outage, or for
outbox events) in the relay loop that every API process and `oneenglish worker` run.

Why our own runner rather than a library: see the README's "Cross-database operations". In short,
DBOS Transact recovers only the workflows of its own executor id unless its hosted Conductor
coordinates several processes, and records the workflow start outside the business transaction;
PostgreSQL job queues (pgqueuer) give at-least-once jobs but no step log or compensation, which
is the part we need. What is left — lock due rows with SKIP LOCKED, run idempotent steps, record
them — is the small piece below.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from oneenglish.core.logging import get_logger
from oneenglish.db import rls, sharding
from oneenglish.db.mongo import Database, is_unavailable
from oneenglish.sagas import repository
from oneenglish.sagas.log import ENQUEUED, SCRUBBED_PAYLOAD, skipped_steps
from oneenglish.sagas.models import (
    COMPENSATED,
    COMPENSATING,
    COMPLETED,
    FAILED,
    PENDING,
    Saga,
)
from oneenglish.sagas.workflow import (
    Enqueued,
    ForErasedUsers,
    OnFailure,
    StepContext,
    TryLater,
    Workflow,
    workflow_for,
)
from oneenglish.settings import Settings

log = get_logger("oneenglish.sagas")

MAX_BACKOFF_SECONDS = 300.0
TRY_LATER_SECONDS = 1.0


# Share-locks the given users that exist and are not being erased, returning them
# (users.service.lock_live_users, passed in: the mechanism knows no domain).
LiveUsersLock = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[set[uuid.UUID]]]


def _backoff(attempts: int) -> timedelta:
    seconds = min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 10))
    return timedelta(seconds=seconds * random.uniform(0.75, 1.0))  # noqa: S311 - jitter


def _soon() -> timedelta:
    return timedelta(seconds=random.uniform(TRY_LATER_SECONDS / 4, TRY_LATER_SECONDS))  # noqa: S311


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class SagaRunner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        mongo: Database,
        settings: Settings,
        lock_live_users: LiveUsersLock,
    ) -> None:
        self.sessionmaker = sessionmaker
        # Every step's writes are acknowledged by a majority of a replica set: a step marked done
        # must not be rolled back by a failover (db/sharding.py).
        self.mongo = sharding.durable(mongo)
        self.settings = settings
        self._lock_live_users = lock_live_users
        self._wake = asyncio.Event()
        self._install_commit_hook()

    # -- the request path --------------------------------------------------------------------

    async def commit_and_run(
        self, db: AsyncSession, saga: Enqueued[Any], *, or_raise: Exception | None = None
    ) -> bool:
        """What every workflow does once its PostgreSQL change and intent are in `db`: commit
        them (the change is then durable), run the MongoDB steps at once, and say whether the
        saga completed. Otherwise (MongoDB down) `or_raise` is raised, if given: the workflow
        says there what happened to the change and what recovery will do."""
        await db.commit()
        completed = await self.run_now(saga) == COMPLETED
        if not completed and or_raise is not None:
            raise or_raise
        return completed

    async def run_now(self, saga: Enqueued[Any]) -> str:
        """Run a just-committed saga; returns its status afterwards. Its steps act for the
        system (db/rls.py): the request that enqueued it was authorized for all of it."""
        with rls.system():
            return await self._run_now(saga)

    async def _run_now(self, saga: Enqueued[Any]) -> str:
        """Run a just-committed saga; returns its status afterwards.

        The fast path takes no lock: the saga's lease keeps recovery away while the request
        runs its steps, and the final status update only applies if the saga is still pending,
        so a request that outlived its lease cannot overwrite what recovery decided. A failure
        takes the slow path, under the row lock."""
        pause = self.settings.test_pause_before_saga_steps
        if pause and self.settings.environment == "test":
            # Fault injection for the crash tests: the intent is committed, MongoDB untouched.
            await asyncio.sleep(pause)
        workflow = saga.workflow
        context = StepContext(saga.id, saga.payload, self.mongo, self.settings)
        steps: dict[str, dict[str, Any]] = {}
        if saga.user_ids:
            return await self._run_now_for_users(saga, workflow, context, steps)
        failures = await self._run_forward(workflow, context, steps)
        if not failures and workflow.complete is None:
            async with self.sessionmaker() as db, db.begin():
                # Losing this mark in a PostgreSQL crash costs nothing (recovery would repeat the
                # idempotent steps), so it need not wait for the WAL flush like the intent did.
                await repository.relax_commit_durability(db)
                if await repository.complete_if_pending(db, saga.id, steps):
                    return COMPLETED
                return await repository.status_of(db, saga.id) or FAILED
        async with self.sessionmaker() as db, db.begin():
            if not failures:
                if await repository.complete_if_pending(db, saga.id, steps):
                    if workflow.complete is not None:
                        await workflow.complete(db, context)
                    return COMPLETED
                return await repository.status_of(db, saga.id) or FAILED
            row = await repository.lock(db, saga.id)
            if row is None:
                return FAILED
            if row.status == PENDING:
                await self._after_forward(db, row, workflow, context, steps, failures, True)
                row.steps = steps
            return row.status

    async def _run_now_for_users(
        self,
        saga: Enqueued[Any],
        workflow: Workflow[Any],
        context: StepContext[Any],
        steps: dict[str, dict[str, Any]],
    ) -> str:
        """run_now for a saga that writes users' data: in one transaction that holds a share
        lock on those users' rows from before the first step until the saga is marked, so an
        erasure either waits for the steps (and then removes what they wrote) or has begun, and
        they do nothing."""
        async with self.sessionmaker() as db, db.begin():
            if workflow.complete is None:
                # As on the fast path: losing only the completion mark costs a repeat of
                # idempotent steps, so its commit need not wait for the WAL flush.
                await repository.relax_commit_durability(db)
            erased = await self._erased(db, saga.user_ids)
            if erased and workflow.for_erased_users is ForErasedUsers.SKIP:
                if await repository.complete_if_pending(
                    db, saga.id, skipped_steps(workflow), payload=SCRUBBED_PAYLOAD
                ):
                    return COMPLETED
                return await repository.status_of(db, saga.id) or FAILED
            context = dataclasses.replace(context, erased=erased)
            failures = await self._run_forward(workflow, context, steps)
            if not failures:
                # A saga that ran for an erased user (pseudonymised) keeps none of its payload.
                scrubbed = SCRUBBED_PAYLOAD if erased else None
                if await repository.complete_if_pending(db, saga.id, steps, payload=scrubbed):
                    if workflow.complete is not None:
                        await workflow.complete(db, context)
                    return COMPLETED
                return await repository.status_of(db, saga.id) or FAILED
            row = await repository.lock(db, saga.id)
            if row is None:
                return FAILED
            if row.status == PENDING:
                await self._after_forward(db, row, workflow, context, steps, failures, True)
                row.steps = steps
            return row.status

    async def _erased(self, db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> frozenset[str]:
        live = await self._lock_live_users(db, user_ids)
        return frozenset(str(u) for u in user_ids if u not in live)

    # -- recovery and relay ------------------------------------------------------------------

    async def recover_once(self, limit: int = 100, *, ignore_lease: bool = False) -> int:
        """One pass over due sagas; returns how many it advanced. `ignore_lease` also takes
        sagas whose starting request may still be running: only for an operator who knows no
        other API process is alive."""
        with rls.system():
            return await self._recover_once(limit, ignore_lease=ignore_lease)

    async def _recover_once(self, limit: int, *, ignore_lease: bool) -> int:
        # Each saga in a transaction of its own: the locks one takes (its users' share locks,
        # a real-time stream's turn) end with it. A pass that held them from one saga to the
        # next deadlocked with requests that lock a user row and then wait for such a turn,
        # and PostgreSQL broke it by failing the pass's next saga, and the next, while that
        # request waited for the whole pass.
        seen: list[uuid.UUID] = []
        while len(seen) < limit:
            async with self.sessionmaker() as db, db.begin():
                due = await repository.lock_due(db, 1, ignore_lease=ignore_lease, excluding=seen)
                if not due:
                    break
                saga = due[0]
                seen.append(saga.id)
                try:
                    async with db.begin_nested():
                        await self._advance(db, saga, from_request=False)
                except TryLater as exc:
                    log.info("saga deferred", saga_id=str(saga.id), kind=saga.kind, why=str(exc))
                    saga.last_error = _describe(exc)
                    saga.next_attempt_at = func.now() + _soon()
                except Exception as exc:  # one bad saga must not stop the others
                    log.error(
                        "saga step raised", saga_id=str(saga.id), kind=saga.kind, exc_info=exc
                    )
                    saga.attempts += 1
                    saga.last_error = _describe(exc)
                    saga.next_attempt_at = func.now() + _backoff(saga.attempts)
        return len(seen)

    async def relay_forever(self, interval: float | None = None) -> None:
        """Recover at start-up, then whenever a commit enqueued a saga, or every `interval`."""
        interval = interval or self.settings.saga_relay_interval_seconds
        cleaned_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                while await self.recover_once() > 0:
                    pass
                if loop.time() - cleaned_at > 600:
                    await self._delete_old_finished()
                    cleaned_at = loop.time()
            except Exception as exc:  # a database outage: log, wait, try again
                log.warning("saga relay pass failed", error=_describe(exc))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    def kick(self) -> None:
        self._wake.set()

    async def status_counts(self) -> dict[str, int]:
        async with self.sessionmaker() as db:
            return await repository.count_by_status(db)

    async def backlog(self) -> dict[str, tuple[int, float]]:
        """Unfinished and failed sagas: per status, the count and the oldest one's age (s)."""
        with rls.system():
            async with self.sessionmaker() as db:
                return await repository.backlog(db)

    async def _delete_old_finished(self) -> None:
        async with self.sessionmaker() as db, db.begin():
            deleted = await repository.delete_finished_before(
                db, self.settings.saga_retention_seconds
            )
        if deleted:
            log.info("finished sagas deleted", count=deleted)

    def _install_commit_hook(self) -> None:
        # db.postgres.create_sessionmaker gives each application its own Session class, so
        # this listener hears only this application's commits.
        session_class = self.sessionmaker.kw["sync_session_class"]
        runner = self

        @event.listens_for(session_class, "after_commit")
        def _kick_after_commit(session: Session) -> None:
            if session.info.pop(ENQUEUED, False):
                runner.kick()

    # -- one step forward (or back) --------------------------------------------------------

    async def _advance(self, db: AsyncSession, saga: Saga, *, from_request: bool) -> None:
        workflow = workflow_for(saga.kind)
        payload = workflow.load(saga.payload)  # the stored JSON, as the workflow's own type
        context = StepContext(saga.id, payload, self.mongo, self.settings)
        steps: dict[str, dict[str, Any]] = {k: dict(v) for k, v in saga.steps.items()}
        if saga.status == PENDING:
            # The share locks on the saga's users last until this relay pass commits.
            erased = await self._erased(db, saga.user_ids) if saga.user_ids else frozenset()
            if erased and workflow.for_erased_users is ForErasedUsers.SKIP:
                saga.status = COMPLETED
                saga.finished_at = func.now()
                saga.steps = skipped_steps(workflow)
                saga.payload = dict(SCRUBBED_PAYLOAD)
                return
            context = dataclasses.replace(context, erased=erased)
            failures = await self._run_forward(workflow, context, steps)
            await self._after_forward(db, saga, workflow, context, steps, failures, from_request)
        elif saga.status == COMPENSATING:
            await self._compensate(db, saga, workflow, context, steps, try_mongo=True)
        saga.steps = steps

    async def _after_forward(
        self,
        db: AsyncSession,
        saga: Saga,
        workflow: Workflow[Any],
        context: StepContext[Any],
        steps: dict[str, dict[str, Any]],
        failures: list[BaseException],
        from_request: bool,
    ) -> None:
        if not failures:
            if workflow.complete is not None:
                await workflow.complete(db, context)
            saga.status = COMPLETED
            saga.finished_at = func.now()
            saga.last_error = None
            if context.erased:  # it ran for an erased user: it keeps none of its payload
                saga.payload = dict(SCRUBBED_PAYLOAD)
            return
        saga.attempts += 1
        saga.last_error = _describe(failures[0])
        give_up = from_request or saga.attempts >= workflow.max_forward_attempts
        if workflow.on_failure is OnFailure.COMPENSATE and give_up:
            saga.status = COMPENSATING
            reachable = not any(is_unavailable(f) for f in failures)
            await self._compensate(db, saga, workflow, context, steps, try_mongo=reachable)
        else:
            saga.next_attempt_at = func.now() + _backoff(saga.attempts)
        log.warning(
            "saga step failed",
            saga_id=str(saga.id),
            kind=saga.kind,
            status=saga.status,
            error=saga.last_error,
        )

    async def _run_forward(
        self, workflow: Workflow[Any], context: StepContext[Any], steps: dict[str, dict[str, Any]]
    ) -> list[BaseException]:
        # The steps of one workflow are independent of each other: run them together.
        todo = [s for s in workflow.steps if not steps.get(s.name, {}).get("done")]
        results = await asyncio.gather(*(s.forward(context) for s in todo), return_exceptions=True)
        failures: list[BaseException] = []
        for step, result in zip(todo, results, strict=True):
            # runs: attempts; applied: attempts that succeeded (more than one would be a step
            # applied twice, which the row locks exist to prevent).
            record = steps.setdefault(step.name, {"runs": 0, "applied": 0, "done": False})
            record["runs"] += 1
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # cancellation and the like are not step failures
                failures.append(result)
            else:
                record["applied"] = record.get("applied", 0) + 1
                record["done"] = True
        return failures

    async def _compensate(
        self,
        db: AsyncSession,
        saga: Saga,
        workflow: Workflow[Any],
        context: StepContext[Any],
        steps: dict[str, dict[str, Any]],
        *,
        try_mongo: bool,
    ) -> None:
        # PostgreSQL first: it is reachable (we hold a lock in it), so the row the client must
        # not see goes now, even while MongoDB is down.
        if workflow.undo is not None:
            await workflow.undo(db, context)
        if not try_mongo:
            saga.next_attempt_at = func.now()
            return
        # Every step is undone, done or not: a write may have landed without its answer.
        backward = [s for s in workflow.steps if s.backward is not None]
        results = await asyncio.gather(
            *(s.backward(context) for s in backward if s.backward is not None),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, Exception)]
        for step, result in zip(backward, results, strict=True):
            record = steps.setdefault(step.name, {"runs": 0, "applied": 0, "done": False})
            record["undone"] = not isinstance(result, BaseException)
        if errors:
            saga.attempts += 1
            saga.last_error = _describe(errors[0])
            saga.next_attempt_at = func.now() + _backoff(saga.attempts)
        else:
            saga.status = COMPENSATED
            saga.finished_at = func.now()
