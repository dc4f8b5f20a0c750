"""The `Idempotency-Key` header of the creating POSTs, as an IdempotentRequest."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from oneenglish.auth.dependencies import CurrentUser
from oneenglish.core.dependencies import ClientIp
from oneenglish.idempotency.service import IdempotentRequest

KEY_DESCRIPTION = (
    "A client-chosen key (a UUID, say) that makes a retry of this request safe: for 24 hours "
    "the same key gets the first outcome back instead of creating again. The same key with a "
    "different request is a 422."
)
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{1,255}$",
        description=KEY_DESCRIPTION,
    ),
]


async def _of_caller(
    request: Request, principal: CurrentUser, key: KeyHeader = None
) -> IdempotentRequest | None:
    if key is None:
        return None
    body = await request.body()
    return IdempotentRequest.of(f"user:{principal.id}", key, request.method, request.url.path, body)


async def _of_address(
    request: Request, ip: ClientIp, key: KeyHeader = None
) -> IdempotentRequest | None:
    if key is None:
        return None
    body = await request.body()
    return IdempotentRequest.of(
        f"anon:{ip or 'unknown'}", key, request.method, request.url.path, body
    )


IdempotencyKey = Annotated[IdempotentRequest | None, Depends(_of_caller)]
AnonymousIdempotencyKey = Annotated[IdempotentRequest | None, Depends(_of_address)]
