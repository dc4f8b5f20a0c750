"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import Connection

from oneenglish import models
from oneenglish.db.postgres import Base


# Alembic cannot compare an expression index with an operator class (the trigram search
# index); it says so and skips that one index.
@pytest.mark.filterwarnings("ignore:Expression #1.*gin_trgm_ops")
async def test_models_and_migrations_agree(app: FastAPI) -> None:
    models.load_all()

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with app.state.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
