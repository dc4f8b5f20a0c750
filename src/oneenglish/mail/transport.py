"""Delivering a composed mail to the SMTP server SMTP_URL names (aiosmtplib)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from oneenglish.settings import Settings

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class MailNotSent(Exception):
    """The server could not be reached or refused the mail: the relay retries later."""


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    implicit_tls: bool  # smtps://
    starttls: bool | None  # None: if the server offers it
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[0]
        if starttls not in ("auto", "required", "off"):
            raise ValueError("SMTP_URL's starttls must be auto, required or off")
        implicit = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            implicit_tls=implicit,
            starttls=None if starttls == "auto" or implicit else starttls == "required",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        self.server = SmtpServer.parse(settings.smtp_target)
        self.timeout = settings.smtp_timeout_seconds
        ca_file = settings.smtp_ca_file
        self.tls_context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    async def send(self, message: EmailMessage) -> None:
        server = self.server
        # Flattened here, with the message's own policy: aiosmtplib's would fold a long URL
        # header into encoded words (mail/service.py:POLICY).
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        sender = parseaddr(str(message["From"]))[1]
        recipients = [address for _, address in getaddresses([str(message["To"])])]
        try:
            await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=recipients,
                hostname=server.hostname,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                start_tls=False if server.implicit_tls else server.starttls,
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Never the message itself in the error (it holds a link): only what went wrong.
            raise MailNotSent(f"{type(exc).__name__} from {server.hostname}:{server.port}") from exc
