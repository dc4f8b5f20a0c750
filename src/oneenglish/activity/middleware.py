"""Records an activity entry for every request an authenticated user made, after the response.

Pure ASGI (like core.middleware.RequestContextMiddleware), not BaseHTTPMiddleware: no extra task
or body buffering per request. Who the caller is becomes known only inside the endpoint's
dependencies (auth.dependencies.current_principal leaves it in the request state); the matched
route and its path parameters are in the scope once routing has run."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from oneenglish.activity.service import ActivityLog
from oneenglish.core.context import client_ip, principal_id, route_template
from oneenglish.core.logging import get_logger
from oneenglish.core.middleware import call_timed

log = get_logger("oneenglish.activity")


class ActivityMiddleware:
    def __init__(self, app: ASGIApp, activity_log: ActivityLog) -> None:
        self.app = app
        self.activity_log = activity_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await call_timed(
            self.app,
            scope,
            receive,
            send,
            lambda status, seconds: self._record(scope, status, seconds),
        )

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        user_id = principal_id(scope)
        if user_id is None:
            return  # anonymous, or the credentials were refused
        try:
            self.activity_log.record(
                user_id,
                f"{scope['method']} {route_template(scope) or '(unmatched)'}",
                scope.get("path_params", {}),
                {"status": status, "duration_ms": round(seconds * 1000, 2)},
                client_ip(scope),
            )
        except Exception as exc:  # recording activity must never fail a request
            log.error("activity not recorded", exc_info=exc)
