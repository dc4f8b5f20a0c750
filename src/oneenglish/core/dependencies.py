"""Small request-scoped values every router may need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oneenglish.settings import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client_ip(request: Request) -> str | None:
    # uvicorn rewrites request.client from X-Forwarded-For only for trusted proxies
    # (FORWARDED_ALLOW_IPS), so this cannot be spoofed by a header.
    return request.client.host if request.client else None


def _user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:300] if agent else None


AppSettings = Annotated[Settings, Depends(_settings)]
ClientIp = Annotated[str | None, Depends(_client_ip)]
UserAgent = Annotated[str | None, Depends(_user_agent)]


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


RequestId = Annotated[str | None, Depends(_request_id)]
