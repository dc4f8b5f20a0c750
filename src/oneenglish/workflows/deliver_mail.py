"""Deliver one mail from the outbox (mail/service.py:send) to the SMTP server.

1. The mail was enqueued in the transaction of the change that caused it; the relay (never the
   request) takes it.
2. One step: derive its link (accounts) and unsubscribe URL (user_settings), write the plain
   text and HTML from the templates, and hand it to the SMTP server.
3. The server down or refusing: the step fails, and the relay tries again with backoff (2, 4,
   8 … s, at most 5 min), for as long as it takes; nothing is lost. A crash after the server
   took the mail but before the saga was marked sends it again, with the same Message-ID
   (the saga's id), which receivers keep once.
A mail to a user who is erased meanwhile is skipped and its payload scrubbed (ForErasedUsers).
"""

from __future__ import annotations

from typing import Any

from oneenglish.accounts import service as accounts
from oneenglish.mail import service as mail
from oneenglish.mail.service import DELIVER_MAIL, MailPayload
from oneenglish.mail.transport import SmtpTransport
from oneenglish.sagas.workflow import OnFailure, Step, StepContext, Workflow, register
from oneenglish.settings import Settings
from oneenglish.user_settings import service as user_settings

# One per settings object (its TLS context is built once); settings live as long as the app.
_TRANSPORTS: dict[int, SmtpTransport] = {}


def _transport(settings: Settings) -> SmtpTransport:
    transport = _TRANSPORTS.get(id(settings))
    if transport is None:
        transport = _TRANSPORTS[id(settings)] = SmtpTransport(settings)
    return transport


async def _send(context: StepContext[MailPayload]) -> None:
    payload, settings = context.payload, context.settings
    links: dict[str, Any] = {}
    if payload.link is not None:
        links["link"] = accounts.link_url(settings, payload.link)
    if payload.unsubscribe:
        links["unsubscribe_url"] = user_settings.unsubscribe_url(
            settings, payload.user_id, payload.unsubscribe
        )
    if len(payload.unsubscribe) > 1:
        links["unsubscribe_links"] = {
            kind.replace("_", " "): user_settings.unsubscribe_url(settings, payload.user_id, [kind])
            for kind in payload.unsubscribe
        }
    message = mail.compose(settings, context.saga_id, payload, links)
    await _transport(settings).send(message)


WORKFLOW = register(
    Workflow(
        kind=DELIVER_MAIL,
        steps=(Step("send", _send),),
        on_failure=OnFailure.RETRY,
    )
)
