"""The platform's clock is real time except inside `clock.simulated`, and only there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from oneenglish.core import clock


def test_the_clock_reads_real_time_outside_a_simulation() -> None:
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)
    assert clock.simulated_now() is None


async def test_a_simulated_instant_reaches_the_tasks_started_within_it_and_ends_with_it() -> None:
    past = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
    with clock.simulated(past):
        here = clock.now()
        in_task = await asyncio.create_task(_read())
    assert here == past
    assert in_task == past
    assert clock.now() - datetime.now(UTC) < timedelta(seconds=1)
    assert clock.simulated_now() is None


def test_a_simulated_instant_must_say_its_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"), clock.simulated(datetime(2026, 1, 1)):
        pass


async def _read() -> datetime:
    return clock.now()
