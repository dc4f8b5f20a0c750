"""Profiles (MongoDB): created with the user, read and patched by their owner or an admin."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, NotFound
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.db import encryption
from oneenglish.db.mongo import ConcurrentUpdate, Database, MongoDocument
from oneenglish.profiles import repository
from oneenglish.profiles.models import ENCRYPTED_FIELDS
from oneenglish.profiles.schemas import ProfileOut, ProfilePatch

_FIELDS = {
    "bio": "bio",
    "address": "address",
    "city": "city",
    "phone": "phone",
    "date_of_birth": "dateOfBirth",
    "social_links": "socialLinks",
    "preferences": "preferences",
}


async def create_default_profile(mongo: Database, user_id: str) -> None:
    await repository.create_if_missing(mongo, user_id)


async def delete_profile(mongo: Database, user_id: str) -> None:
    await repository.delete(mongo, user_id)


async def find_profile(mongo: Database, user_id: str) -> ProfileOut | None:
    try:
        document = await repository.get(mongo, user_id)
    except encryption.KeyUnavailable:
        # Its data key is gone: the user has been erased (the document goes next).
        raise NotFound(f"No profile for user {user_id}: the account has been erased") from None
    return to_out(document) if document else None


async def get_profile(mongo: Database, principal: Principal, user_id: uuid.UUID) -> ProfileOut:
    ensure_self_or_permitted(principal, user_id, "users", "read")
    profile = await find_profile(mongo, str(user_id))
    if profile is None:
        raise NotFound(f"No profile for user {user_id}")
    return profile


async def update_profile(
    mongo: Database, principal: Principal, actor: Actor, user_id: uuid.UUID, patch: ProfilePatch
) -> ProfileOut:
    ensure_self_or_permitted(principal, user_id, "users", "update")
    before = await get_profile(mongo, principal, user_id)
    after = await _apply(mongo, str(user_id), patch)
    old, new = _auditable(before, after)
    await audit.write_now(
        mongo, actor, "profile.updated", "user_profile", user_id, before=old, after=new
    )
    return after


def _auditable(before: ProfileOut, after: ProfileOut) -> tuple[dict[str, Any], dict[str, Any]]:
    """The audit entry says which personal fields changed, never their values: the audit log
    is not encrypted, and the fields are encrypted precisely so that they are nowhere else."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    for name, stored in _FIELDS.items():
        if stored in ENCRYPTED_FIELDS:
            changed = old[name] != new[name]
            old[name] = new[name] = "[changed]" if changed else "[unchanged]"
    return old, new


async def _apply(mongo: Database, user_id: str, patch: ProfilePatch) -> ProfileOut:
    changes = {
        stored: _storable(name, value)
        for name, stored in _FIELDS.items()
        if (value := getattr(patch, name)) is not None
    }
    try:
        document = (
            await repository.update(mongo, user_id, changes)
            if changes
            else await repository.get(mongo, user_id)
        )
    except ConcurrentUpdate as exc:
        raise Conflict("The profile was being changed at the same time; retry") from exc
    if document is None:
        raise NotFound(f"No profile for user {user_id}")
    return to_out(document)


async def users_with_profiles(mongo: Database, user_ids: Sequence[str]) -> set[str]:
    return await repository.existing_ids(mongo, user_ids)


def _storable(name: str, value: Any) -> Any:
    if name == "social_links":
        return {k: str(v) for k, v in value.items()}
    if name == "date_of_birth":
        return value.isoformat()  # BSON has no date; an ISO string, encrypted like the rest
    return value


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def to_out(document: MongoDocument) -> ProfileOut:
    return ProfileOut(
        user_id=document["userId"],
        bio=document.get("bio", ""),
        address=document.get("address", ""),
        city=document.get("city", ""),
        phone=document.get("phone") or "",
        date_of_birth=_date(document.get("dateOfBirth")),
        social_links=document.get("socialLinks", {}),
        preferences=document.get("preferences", {}),
        created_at=document["createdAt"],
        updated_at=document["updatedAt"],
    )
