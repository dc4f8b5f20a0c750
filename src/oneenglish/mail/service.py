"""Mail to users: put in the caller's transaction as an outbox entry, written and sent later.

`send` records a `deliver_mail` saga with the change that causes the mail, so the mail exists
exactly if the change commits, and no request waits for an SMTP server: the relay delivers it
(workflows/deliver_mail.py), retrying with backoff while the server is down, so an outage
delays mail and loses none. The saga's id is the mail's Message-ID: a retry after a send
whose answer was lost repeats the same message, which receivers keep once.

The payload holds no secret: a link's token is derived when the mail is written
(core/security.py:link_token), and an unsubscribe link is signed then. The user's address
and name are in it until the mail is sent; an erasure scrubs it before (the saga names the
user, and is skipped for an erased one)."""

from __future__ import annotations

import email.policy
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.core import clock
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.mail import repository
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.workflow import SagaKind, SagaPayload
from oneenglish.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
# RFC 5322's line limit, not 78: a long URL header (List-Unsubscribe) must stay one plain
# token, which the default policy would fold into RFC 2047 encoded words no client reads.
POLICY = email.policy.SMTP.clone(max_line_length=998)
SUBJECTS = {
    "verify_email": "Confirm your email address for {platform}",
    "password_reset": "Reset your {platform} password",
    "password_changed": "Your {platform} password was changed",
    "email_change_confirm": "Confirm your new email address for {platform}",
    "email_changed": "The email address of your {platform} account was changed",
    "notification": "{title}",
    "digest": "Your {frequency} {platform} digest",
}


class MailLink(BaseModel):
    """The account link a mail carries: which token row, for what (accounts/service.py)."""

    purpose: str
    token_id: uuid.UUID


class MailPayload(SagaPayload):
    template: str
    user_id: uuid.UUID
    to_address: str
    to_name: str
    context: dict[str, Any]
    link: MailLink | None = None
    # The notification types an unsubscribe link (and the List-Unsubscribe header) stops; a
    # mail about several (a digest) also gets a link per type.
    unsubscribe: list[str] = Field(default_factory=list)


DELIVER_MAIL = SagaKind("deliver_mail", MailPayload)


def send(
    db: AsyncSession,
    template: str,
    *,
    user_id: uuid.UUID,
    to_address: str,
    to_name: str,
    context: dict[str, Any] | None = None,
    link: MailLink | None = None,
    unsubscribe: Sequence[str] = (),
) -> uuid.UUID:
    """Add a mail to the caller's transaction; returns its id (its Message-ID's left part)."""
    if template not in SUBJECTS:
        raise ValueError(f"no mail template {template!r}")
    saga = enqueue(
        db,
        DELIVER_MAIL,
        MailPayload(
            template=template,
            user_id=user_id,
            to_address=to_address,
            to_name=to_name,
            context=context or {},
            link=link,
            unsubscribe=list(unsubscribe),
        ),
        user_ids=[user_id],
    )
    return saga.id


def one_line(text: str) -> str:
    """Header text from user input: every run of whitespace (CR and LF included) one space,
    so a name or a course title can never start a header of its own."""
    return " ".join(text.split())


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(
    settings: Settings,
    mail_id: uuid.UUID,
    payload: MailPayload,
    links: dict[str, Any],
) -> EmailMessage:
    """The message: plain text and HTML from the payload's templates, `links` (the link, the
    unsubscribe URL and the per-type ones, derived by the caller) added to their context."""
    name = one_line(payload.to_name)
    values = {
        **payload.context,
        **links,
        "platform": settings.platform_name,
        "name": name,
        "address": payload.to_address,
        "unsubscribe_url": links.get("unsubscribe_url"),
        "unsubscribe_links": links.get("unsubscribe_links", {}),
    }
    environment = _environment()
    subject = one_line(SUBJECTS[payload.template].format_map(values))
    values["subject"] = subject
    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject
    sender_name, sender_address = parseaddr(settings.mail_from)
    message["From"] = Address(one_line(sender_name), addr_spec=sender_address)
    message["To"] = Address(name, addr_spec=payload.to_address)
    message["Date"] = format_datetime(clock.now())
    domain = sender_address.rpartition("@")[2] or "oneenglish.invalid"
    message["Message-ID"] = f"<{mail_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe := links.get("unsubscribe_url"):
        # RFC 8058: a mail client's one-click unsubscribe POSTs to this URL.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(environment.get_template(f"{payload.template}.txt.j2").render(values))
    message.add_alternative(
        environment.get_template(f"{payload.template}.html.j2").render(values), subtype="html"
    )
    return message


# -- digests: the ledger that makes each one happen once ------------------------------------


async def claim_digest(
    db: AsyncSession,
    user_id: uuid.UUID,
    frequency: str,
    period: str,
    until: datetime,
    first_since: datetime,
) -> datetime | None:
    """Claim the user's digest of one period, in the caller's transaction: None if another
    pass (another API process) has it; otherwise where it starts, which is where the previous
    digest ended (`first_since` for a first one). The claim and the mail commit together."""
    return await repository.claim_digest(db, user_id, frequency, period, until, first_since)


async def record_digest_size(
    db: AsyncSession, user_id: uuid.UUID, frequency: str, period: str, notifications: int
) -> None:
    await repository.count_digest(db, user_id, frequency, period, notifications)


async def _export_digests(db: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        {
            "frequency": d.frequency,
            "period": d.period,
            "covered_until": d.covered_until.isoformat(),
            "notifications": d.notifications,
        }
        for d in await repository.digests_of(db, user_id)
    ]


register_user_table(UserTable("mail_digests", "email_digests", _export_digests))
