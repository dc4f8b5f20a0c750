"""Who is calling, and the one object-level rule every domain uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from oneenglish.core.errors import Forbidden, NotFound


@dataclass(frozen=True, slots=True)
class Principal:
    id: uuid.UUID
    email: str
    username: str
    session_id: uuid.UUID
    roles: frozenset[str]
    permissions: frozenset[str]  # "resource:action", roles and direct grants combined

    def can(self, resource: str, action: str) -> bool:
        return f"{resource}:{action}" in self.permissions


# A caller without a token, on the routes that serve one (the public catalogue): no roles, no
# permissions, an id that names nobody.
ANONYMOUS = Principal(
    id=uuid.UUID(int=0),
    email="",
    username="",
    session_id=uuid.UUID(int=0),
    roles=frozenset(),
    permissions=frozenset(),
)


def ensure_self_or_permitted(
    principal: Principal,
    owner_id: uuid.UUID,
    resource: str,
    action: str,
    *,
    hide_existence: bool = True,
) -> None:
    """Own records are always yours; anyone else's needs `resource:action` ("on any").

    A caller who may not see the record learns nothing about whether it exists (404), unless
    hide_existence is off (403)."""
    if principal.id == owner_id or principal.can(resource, action):
        return
    if hide_existence:
        raise NotFound(f"No {resource} record {owner_id}")
    raise Forbidden(f"Requires {resource}:{action}")
