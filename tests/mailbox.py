"""The test stack's Mailpit, read through its HTTP API: the mail a test's users received."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx

from oneenglish.settings import Settings

TOKEN = re.compile(r"#token=([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class Mail:
    id: str
    message_id: str
    subject: str
    to: list[str]
    text: str
    html: str
    headers: dict[str, list[str]]

    @property
    def token(self) -> str:
        found = TOKEN.search(self.text)
        assert found, f"no link with a token in:\n{self.text}"
        return found.group(1)

    def header(self, name: str) -> str | None:
        for key, values in self.headers.items():
            if key.lower() == name.lower():
                return values[0]
        return None


class Mailbox:
    def __init__(self, settings: Settings) -> None:
        self.api = f"http://127.0.0.1:{settings.local_mailpit_ui_port}/api/v1"

    async def _get(self, path: str, **params: Any) -> Any:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(self.api + path, params=params)
            response.raise_for_status()
            return response.json()

    async def to(self, address: str, subject: str | None = None) -> list[Mail]:
        """Every mail to `address` (oldest first), optionally only those whose subject has
        `subject` in it."""
        found = await self._get("/search", query=f'to:"{address}"', limit=200)
        summaries = [
            m
            for m in reversed(found["messages"])
            if subject is None or subject.lower() in m["Subject"].lower()
        ]
        return list(await asyncio.gather(*(self._mail(m["ID"]) for m in summaries)))

    async def _mail(self, mail_id: str) -> Mail:
        message, headers = await asyncio.gather(
            self._get(f"/message/{mail_id}"), self._get(f"/message/{mail_id}/headers")
        )
        return Mail(
            id=mail_id,
            message_id=message["MessageID"],
            subject=message["Subject"],
            to=[t["Address"] for t in message["To"]],
            text=message["Text"],
            html=message["HTML"],
            headers=headers,
        )

    async def wait_for(
        self, address: str, subject: str | None = None, count: int = 1, timeout: float = 20
    ) -> list[Mail]:
        """At least `count` such mails (bounded polling: the relay sends in the background)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            mails = await self.to(address, subject)
            if len(mails) >= count or asyncio.get_running_loop().time() > deadline:
                return mails
            await asyncio.sleep(0.2)
