from __future__ import annotations

import hmac

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from oneenglish.core import metrics
from oneenglish.core.errors import NotFound, Unauthorized
from oneenglish.core.problems import PROBLEM_MEDIA_TYPE, Problem, problem_response
from oneenglish.core.routing import NO_DATABASE, ApiRouter
from oneenglish.health.service import SagaBacklog, check_readiness, read_saga_backlog

router = ApiRouter(tags=["health"])


class Liveness(BaseModel):
    status: str


class CheckOut(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class ReplicaOut(BaseModel):
    name: str
    usable: bool
    lag_seconds: float | None
    error: str | None


class Readiness(BaseModel):
    status: str
    checks: dict[str, CheckOut]
    # The read replicas (db/replicas.py): reported, never a reason to be unready, since reads
    # fall back to the primary.
    replicas: list[ReplicaOut] = []


@router.get("/health", summary="The process is alive", openapi_extra=NO_DATABASE)
async def liveness() -> Liveness:
    return Liveness(status="ok")


@router.get(
    "/health/ready",
    summary="Both databases answer",
    response_model=Readiness,
    responses={
        503: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "A database did not answer in time, or the field-encryption key "
            "vault cannot be opened; `checks` says which.",
        }
    },
)
async def readiness(request: Request) -> Readiness | Response:
    state = request.app.state
    checks = await check_readiness(state.engine, state.mongo_db, state.settings.health_timeout)
    by_name = {c.name: {"ok": c.ok, "latency_ms": c.latency_ms, "error": c.error} for c in checks}
    failed = [c.name for c in checks if not c.ok]
    replica_states = state.replicas.states if state.replicas is not None else []
    replicas = [
        ReplicaOut(name=r.name, usable=r.usable, lag_seconds=r.lag_seconds, error=r.error)
        for r in replica_states
    ]
    if not failed:
        return Readiness(
            status="ok", checks={n: CheckOut(**c) for n, c in by_name.items()}, replicas=replicas
        )
    names = {
        "postgresql": "PostgreSQL not answering",
        "mongodb": "MongoDB not answering",
        "field_encryption": "the key vault cannot be opened with this master key",
    }
    return problem_response(
        request,
        503,
        "unavailable",
        "Service unavailable",
        "; ".join(names[n] for n in failed),
        headers={"Retry-After": "5"},
        failed=failed,
        checks=by_name,
        replicas=[r.model_dump() for r in replicas],
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (for the scraper holding METRICS_TOKEN)",
    description="The text exposition format: requests by route template and status, request "
    "and database latency histograms, pool usage, the saga backlog, background log queues and "
    'WebSocket connections, summed over every worker process (README "Metrics"). The '
    "scraper sends `Authorization: Bearer <METRICS_TOKEN>` (its own secret, not a user's "
    "token). 404 while METRICS_TOKEN is unset.",
    response_class=Response,
    responses={
        200: {"content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}},
        401: {"description": "Not the METRICS_TOKEN bearer token"},
        404: {"description": "Metrics are off: METRICS_TOKEN is unset"},
    },
)
async def scrape(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token is None:
        raise NotFound("metrics are off: set METRICS_TOKEN to serve them")
    expected = b"Bearer " + settings.metrics_token.get_secret_value().encode()
    given = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("the metrics need METRICS_TOKEN as a bearer token")
    backlog = await read_saga_backlog(request.app.state.saga_runner, settings.health_timeout)
    body = metrics.render(settings.prometheus_multiproc_dir, [SagaBacklog(backlog)])
    return Response(body, media_type=metrics.CONTENT_TYPE)
