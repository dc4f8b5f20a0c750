"""seed-demo never mixes made-up people into a database of real ones."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from oneenglish.courses.models import Course
from oneenglish.demo.seed import DemoRefused, seed_demo
from oneenglish.settings import Settings
from tests.factories import make_user


async def test_seed_demo_refuses_a_database_with_real_users_and_writes_nothing(
    app: FastAPI, migrated: Settings
) -> None:
    await make_user(app, email="real.learner@example.com")
    with pytest.raises(DemoRefused, match="1 account"):
        await seed_demo(migrated, 1)
    async with app.state.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Course)) == 0


async def test_seed_demo_never_writes_to_production(migrated: Settings) -> None:
    production = migrated.model_copy(update={"environment": "production"})
    with pytest.raises(DemoRefused, match="production"):
        await seed_demo(production, 1)
