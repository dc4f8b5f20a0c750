from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from oneenglish.core.problems import PROBLEM_MEDIA_TYPE, Problem, problem_response
from oneenglish.core.routing import NO_DATABASE, ApiRouter
from oneenglish.health.service import check_readiness

router = ApiRouter(tags=["health"])


class Liveness(BaseModel):
    status: str


class CheckOut(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: str
    checks: dict[str, CheckOut]


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
    if not failed:
        return Readiness(status="ok", checks={n: CheckOut(**c) for n, c in by_name.items()})
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
    )
