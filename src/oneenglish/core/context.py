"""Who did something, from where: recorded with every audited change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID | None
    ip: str | None
    request_id: str | None

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None, None)
