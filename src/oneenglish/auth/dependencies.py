"""`CurrentUser` and `Require(resource, action)`: who is calling, and may they do this."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from oneenglish.auth import service
from oneenglish.core.context import PRINCIPAL_ID, Actor
from oneenglish.core.dependencies import AppSettings, ClientIp, RequestId
from oneenglish.core.errors import Forbidden, Unauthorized
from oneenglish.core.principal import ANONYMOUS, Principal
from oneenglish.db.postgres import DbSession
from oneenglish.limits import service as limits

# auto_error=False: a missing token becomes our own 401 problem, not FastAPI's plain JSON.
_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def current_principal(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    if not token:
        raise Unauthorized("Missing bearer token")
    principal = await service.authenticate(db, settings, token)
    # For what runs outside the endpoint: the activity middleware and the error log.
    setattr(request.state, PRINCIPAL_ID, principal.id)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def catalogue_reader(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    ip: ClientIp,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    """The caller of a public catalogue route: the authenticated user when a token is sent
    (a bad one is still a 401), else ANONYMOUS, within the anonymous read limit per address."""
    if token:
        return await current_principal(request, db, settings, token)
    reads = limits.Limit("anonymous catalogue read", settings.anonymous_reads_per_ip_per_minute, 60)
    await limits.consume(db, reads, ip or "unknown")
    return ANONYMOUS


# The public catalogue's caller: a user, or ANONYMOUS (no token).
CatalogueReader = Annotated[Principal, Depends(catalogue_reader)]


async def _actor(principal: CurrentUser, ip: ClientIp, request_id: RequestId) -> Actor:
    return Actor(principal.id, ip, request_id)


async def _anonymous_actor(ip: ClientIp, request_id: RequestId) -> Actor:
    return Actor(None, ip, request_id)


# Who is acting, for audit entries: the authenticated caller, or nobody yet (sign-up).
CurrentActor = Annotated[Actor, Depends(_actor)]
AnonymousActor = Annotated[Actor, Depends(_anonymous_actor)]


def Require(resource: str, action: str) -> Any:  # noqa: N802 - reads as a type annotation
    """`principal: Annotated[Principal, Require("users", "read")]`."""

    async def check(principal: CurrentUser) -> Principal:
        if not principal.can(resource, action):
            raise Forbidden(f"Requires permission {resource}:{action}")
        return principal

    return Depends(check)
