"""Domain errors: raised by services, turned into problem+json once, in core.problems."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(DomainError):
    pass


class InvalidLink(DomainError):
    """A token from a mailed link that is tampered with, expired, used, or not for this."""

    title = "Invalid or expired link"
    slug = "invalid-link"


class UpgradeRequired(DomainError):
    status = 426
    title = "Upgrade required"
    slug = "upgrade-required"


class Unauthorized(DomainError):
    status = 401
    title = "Not authenticated"
    slug = "unauthorized"

    def __init__(self, detail: str = "Missing or invalid credentials", **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class PaymentRequired(DomainError):
    status = 402
    title = "Payment required"
    slug = "payment-required"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule a schema cannot express."""

    status = 422
    title = "Validation failed"
    slug = "validation-failed"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, detail: str, retry_after: int, **extensions: Any) -> None:
        super().__init__(
            detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **extensions
        )


class Replay(Exception):
    """Answer with the stored outcome of the request this one repeats (Idempotency-Key)."""

    def __init__(self, status: int, body: object) -> None:
        super().__init__(f"replay of a {status} response")
        self.status = status
        self.body = body


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"
    slug = "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5, **extensions: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extensions)
