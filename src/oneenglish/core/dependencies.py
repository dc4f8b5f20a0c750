"""Small request-scoped values every router may need.

Every dependency in this project is `async def`, even when it awaits nothing: FastAPI runs a
plain `def` dependency in a thread pool, a thread hop per request for a dictionary lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oneenglish.core.context import client_ip
from oneenglish.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _client_ip(request: Request) -> str | None:
    return client_ip(request.scope)


async def _user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:300] if agent else None


AppSettings = Annotated[Settings, Depends(_settings)]
ClientIp = Annotated[str | None, Depends(_client_ip)]
UserAgent = Annotated[str | None, Depends(_user_agent)]


async def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


RequestId = Annotated[str | None, Depends(_request_id)]
