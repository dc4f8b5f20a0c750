from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oneenglish.sagas.runner import SagaRunner


async def _runner(request: Request) -> SagaRunner:
    runner: SagaRunner = request.app.state.saga_runner
    return runner


Sagas = Annotated[SagaRunner, Depends(_runner)]
