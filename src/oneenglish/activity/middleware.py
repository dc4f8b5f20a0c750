"""Records an activity entry for every request an authenticated user made, after the response.

Pure ASGI (like core.middleware.RequestContextMiddleware), not BaseHTTPMiddleware: no extra task
or body buffering per request. Who the caller is becomes known only inside the endpoint's
dependencies (auth.dependencies.current_principal leaves it in the request state); the matched
route and its path parameters are in the scope once routing has run."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oneenglish.activity.service import ActivityLog
from oneenglish.core.context import client_ip, principal_id, route_template
from oneenglish.core.logging import get_logger

log = get_logger("oneenglish.activity")


class ActivityMiddleware:
    def __init__(self, app: ASGIApp, activity_log: ActivityLog) -> None:
        self.app = app
        self.activity_log = activity_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # An exception that escapes here becomes a 500 in the outermost error middleware.
        status = 500

        async def send_watching_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_watching_status)
        finally:
            self._record(scope, status, time.perf_counter() - started)

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
