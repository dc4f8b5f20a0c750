"""Background batch writing for high-volume records (activity, error logs).

The request path only puts an entry in a bounded in-process queue and never waits: when the
queue is full the entry is dropped and counted, because slowing every request down (or growing
memory without bound) while the database is slow would be worse than losing some log lines.
One task per writer drains the queue and writes whole batches."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Generic, TypeVar

from oneenglish.core import metrics
from oneenglish.core.logging import get_logger

T = TypeVar("T")

log = get_logger("oneenglish.background")

MAX_RETRY_DELAY_SECONDS = 30.0


# Given a batch's user ids, holds what keeps their erasure from racing the write for the block
# and yields the ids of those erased or being erased (workflows/user_data.py::batch_guard).
UserGuard = Callable[[Sequence[str]], AbstractAsyncContextManager[frozenset[str]]]


class BatchWriter(Generic[T]):
    def __init__(
        self,
        name: str,
        *,
        capacity: int,
        batch_size: int,
        linger: float = 0.0,
        retry_if: Callable[[BaseException], bool] = lambda _exc: False,
        drop_log_interval: float = 60.0,
    ) -> None:
        self.name = name
        self.capacity = capacity
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=capacity)
        self._batch_size = batch_size
        # How long the first entry of a batch waits for others: one insert of many entries
        # costs the database and the driver far less than many inserts of one or two.
        self._linger = linger
        # Errors worth waiting out (the database is unreachable); any other write error would
        # fail again on the same entries, so that batch is given up.
        self._retry_if = retry_if
        self._drop_log_interval = drop_log_interval
        self._sink: Callable[[list[T]], Awaitable[object]] | None = None
        self._task: asyncio.Task[None] | None = None
        # Counters for operators (and tests): entries dropped (queue full), lost to write
        # errors, written; writes retried while the database was unreachable.
        self.dropped = 0
        self.failed = 0
        self.written = 0
        self.retries = 0
        self._dropped_unreported = 0
        self._drop_reported_at = -math.inf

    # -- the request path -------------------------------------------------------------------

    def offer(self, item: T) -> bool:
        """Queue an entry without waiting; False (and counted) if the queue is full."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            metrics.LOG_ENTRIES.labels(self.name, "dropped").inc()
            self._dropped_unreported += 1
            self._report_drops()
            return False
        return True

    # -- the writer task --------------------------------------------------------------------

    def start(self, sink: Callable[[list[T]], Awaitable[object]]) -> None:
        """Begin writing with `sink` (entries offered before this wait in the queue)."""
        if self._task is not None:
            raise RuntimeError(f"{self.name} writer already started")
        self._sink = sink
        self._task = asyncio.create_task(self._drain(), name=f"{self.name}-writer")

    async def flush(self) -> None:
        """Wait until every entry offered so far is written (or given up)."""
        if self._task is not None:
            await self._queue.join()

    async def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (for at most `timeout` seconds), then end the task."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("entries not written at shutdown", writer=self.name, lost=self.pending)
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._report_drops(force=True)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._linger > 0 and self._queue.qsize() < self._batch_size - 1:
                await asyncio.sleep(self._linger)
            while len(batch) < self._batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
            self._report_drops()

    async def _write(self, batch: list[T]) -> None:
        assert self._sink is not None
        delay = 0.5
        while True:
            try:
                await self._sink(batch)
            except Exception as exc:
                if not self._retry_if(exc):
                    self.failed += len(batch)
                    metrics.LOG_ENTRIES.labels(self.name, "failed").inc(len(batch))
                    log.error("log write failed; entries lost", writer=self.name, exc_info=exc)
                    return
                # Entries keep arriving meanwhile; past the queue's capacity they are dropped.
                self.retries += 1
                log.warning(
                    "log write failed; retrying", writer=self.name, items=len(batch), error=str(exc)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)
            else:
                self.written += len(batch)
                metrics.LOG_ENTRIES.labels(self.name, "written").inc(len(batch))
                return

    def _report_drops(self, *, force: bool = False) -> None:
        # One line per interval with the count, not one per dropped entry: a full queue means
        # the process is already under pressure.
        if not self._dropped_unreported:
            return
        now = time.monotonic()
        if force or now - self._drop_reported_at >= self._drop_log_interval:
            log.warning(
                "log entries dropped: queue full",
                writer=self.name,
                dropped=self._dropped_unreported,
                dropped_total=self.dropped,
                capacity=self.capacity,
            )
            self._dropped_unreported = 0
            self._drop_reported_at = now
