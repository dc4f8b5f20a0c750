"""Users in PostgreSQL: creation, lookup, listing, updates, roles and direct grants."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oneenglish.core.principal import Principal, ensure_self_or_permitted
from oneenglish.core.security import hash_password, password_problems
from oneenglish.db import rls
from oneenglish.db.postgres import UserTable, register_user_table, release_connection
from oneenglish.rbac import service as rbac
from oneenglish.rbac.defaults import ADMIN_ROLE, TEACHER_ROLE
from oneenglish.users import repository
from oneenglish.users.models import User
from oneenglish.users.schemas import (
    Badge,
    RegisterIn,
    UserCard,
    UserFilters,
    UserOut,
    UserPatch,
)


@dataclass(frozen=True)
class NewUser:
    email: str
    username: str
    password: str
    first_name: str = ""
    last_name: str = ""

    @classmethod
    def from_input(cls, data: RegisterIn) -> NewUser:
        return cls(data.email, data.username, data.password, data.first_name, data.last_name)


def check_password_policy(password: str, *, username: str, email: str) -> None:
    problem = password_problems(password, username=username, email=email)
    if problem:
        raise InvalidInput(problem, errors=[{"loc": ["body", "password"], "msg": problem}])


async def create_user(
    db: AsyncSession, new: NewUser, roles: Sequence[str], *, user_id: uuid.UUID | None = None
) -> UserOut:
    """Insert the user and its roles (not committed: the caller owns the transaction)."""
    check_password_policy(new.password, username=new.username, email=new.email)
    await release_connection(db)  # no connection is held while Argon2 runs
    password_hash = await hash_password(new.password)
    values: dict[str, object] = {
        "email": new.email.lower(),
        "username": new.username,
        "first_name": new.first_name,
        "last_name": new.last_name,
        "password_hash": password_hash,
    }
    if user_id is not None:
        values["id"] = user_id
    try:
        async with db.begin_nested():
            user = await repository.insert(db, **values)
    except IntegrityError as exc:
        field = repository.email_or_username_taken(str(exc.orig))
        if field is None:
            raise
        raise Conflict(f"That {field} is already registered", field=field) from exc
    for role in roles:
        await rbac.assign_role(db, user.id, role)
    return _out(user, sorted(set(roles)))


async def get_user(db: AsyncSession, principal: Principal, user_id: uuid.UUID) -> UserOut:
    ensure_self_or_permitted(principal, user_id, "users", "read")
    return await get_user_unchecked(db, user_id)


async def get_user_unchecked(db: AsyncSession, user_id: uuid.UUID) -> UserOut:
    row = await repository.get_with_roles(db, user_id, rbac.role_names_sql("u.id"))
    if row is None:
        raise NotFound(f"No users record {user_id}")
    return UserOut.model_validate(dict(row))


async def find_user(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await repository.get(db, user_id)


async def find_by_identifier(db: AsyncSession, identifier: str) -> User | None:
    return await repository.get_by_identifier(db, identifier)


async def find_by_email(db: AsyncSession, email: str) -> User | None:
    return await repository.get_by_email(db, email)


async def list_users(
    db: AsyncSession, filters: UserFilters, limit: int, offset: int
) -> tuple[list[UserOut], int]:
    users, total = await repository.list_page(
        db,
        limit=limit,
        offset=offset,
        is_active=filters.is_active,
        search=filters.search,
        user_ids=rbac.user_ids_with_role_query(filters.role) if filters.role else None,
    )
    roles = await rbac.role_names_of_users(db, [u.id for u in users])
    return [_out(u, roles[u.id]) for u in users], total


async def count_accounts_outside(db: AsyncSession, email_domain: str, *, except_role: str) -> int:
    """Accounts whose email is not in `email_domain`, holders of `except_role` aside: how
    seed-demo tells a database with real users from a fresh or demo one."""
    return await repository.count_outside_domain(
        db, email_domain, rbac.user_ids_with_role_query(except_role)
    )


async def update_user(
    db: AsyncSession, principal: Principal, actor: Actor, user_id: uuid.UUID, patch: UserPatch
) -> UserOut:
    ensure_self_or_permitted(principal, user_id, "users", "update")
    user = await repository.get_for_update(db, user_id)
    if user is None:
        raise NotFound(f"No users record {user_id}")
    roles = await rbac.role_names_of_users(db, [user.id])
    before = _out(user, roles[user.id])
    if patch.is_active is not None and patch.is_active != user.is_active:
        if not principal.can("users", "update"):
            raise Forbidden("Changing is_active requires users:update")
        if not patch.is_active:
            await _ensure_an_active_admin_remains(db, losing=user_id)
        user.is_active = patch.is_active
    _apply_names(user, patch)
    await db.flush()
    await db.refresh(user)
    after = _out(user, roles[user.id])
    if after != before:
        audit.record(db, actor, "user.updated", "user", user.id, before=before, after=after)
    return after


def _apply_names(user: User, patch: UserPatch) -> None:
    if patch.first_name is not None:
        user.first_name = patch.first_name
    if patch.last_name is not None:
        user.last_name = patch.last_name
    if patch.display_name is not None:
        user.display_name = patch.display_name or None
    if patch.clear_avatar:
        user.avatar_url = None
    elif patch.avatar_file_id is not None:  # checked to be theirs by the caller (users/router)
        user.avatar_url = f"/api/files/{patch.avatar_file_id}"
    elif patch.avatar_url is not None:
        user.avatar_url = str(patch.avatar_url)


async def deactivate_user(
    db: AsyncSession, principal: Principal, actor: Actor, user_id: uuid.UUID
) -> UserOut:
    return await update_user(db, principal, actor, user_id, UserPatch(is_active=False))


async def set_roles(
    db: AsyncSession, actor: Actor, user_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    await _existing(db, user_id)
    if ADMIN_ROLE not in names:
        await _ensure_an_active_admin_remains(db, losing=user_id)
    before = (await rbac.role_names_of_users(db, [user_id]))[user_id]
    after = await rbac.set_user_roles(db, user_id, names)
    audit.record(
        db,
        actor,
        "user.roles_set",
        "user",
        user_id,
        before={"roles": before},
        after={"roles": after},
    )
    return after


async def set_direct_permissions(
    db: AsyncSession, principal: Principal, actor: Actor, user_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    await _staff_may(db, principal, "permissions", "assign")
    await _existing(db, user_id)
    before = await rbac.direct_permissions_of_user(db, user_id)
    after = await rbac.set_user_permissions(db, user_id, names)
    audit.record(
        db,
        actor,
        "user.permissions_set",
        "user",
        user_id,
        before={"permissions": before},
        after={"permissions": after},
    )
    return after


async def lock_for_erasure(db: AsyncSession, principal: Principal, user_id: uuid.UUID) -> list[str]:
    """Lock the row (waiting for every write of the user's data in progress, which holds a
    share lock on it), check the caller may erase it, deactivate it and mark it erased: from
    this commit on, nothing writes the user's data. Returns the user's roles."""
    ensure_self_or_permitted(principal, user_id, "users", "delete")
    user = await repository.get_for_update(db, user_id)
    if user is None:
        raise NotFound(f"No users record {user_id}")
    if user.erased_at is not None:
        raise Conflict("The erasure of this account is already in progress", erasure="pending")
    await _ensure_an_active_admin_remains(db, losing=user_id)
    roles = await rbac.role_names_of_users(db, [user.id])
    user.is_active = False
    user.erased_at = func.now()
    await db.flush()
    return roles[user.id]


async def lock_live_users(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Share-lock the users that exist and are not being erased (until the transaction ends)
    and return them: a write of their data made under this lock happens before any erasure of
    them starts, so the erasure removes it; the others must not be written."""
    return await repository.lock_live(db, user_ids)


async def delete_user_row(db: AsyncSession, user_id: uuid.UUID) -> bool:
    """Delete the row (roles, grants and sessions cascade). Idempotent."""
    return await repository.delete(db, user_id)


async def existing_user_ids(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return await repository.existing_ids(db, user_ids)


def iterate_user_ids(db: AsyncSession, batch_size: int) -> AsyncIterator[list[uuid.UUID]]:
    return repository.iterate_ids(db, batch_size)


async def _staff_may(db: AsyncSession, principal: Principal, resource: str, action: str) -> None:
    """Check the permission, then let the database show this request other users' rows
    (db/rls.py): a staff operation on someone else's grants."""
    if not principal.can(resource, action):
        raise Forbidden(f"Requires permission {resource}:{action}")
    await rls.elevate(db)


async def direct_permissions(
    db: AsyncSession, principal: Principal, user_id: uuid.UUID
) -> list[str]:
    await _staff_may(db, principal, "permissions", "read")
    await _existing(db, user_id)
    return await rbac.direct_permissions_of_user(db, user_id)


async def mark_email_verified(db: AsyncSession, user_id: uuid.UUID, email: str) -> bool:
    """Verified, if `email` is still the user's address (a link for an address they have
    since changed proves nothing about the new one)."""
    return await repository.mark_email_verified(db, user_id, email)


async def change_email(
    db: AsyncSession, user_id: uuid.UUID, new_email: str, *, verified: bool
) -> str:
    """Give the user a new address (confirmed from that address, or restored by an undo
    from the old one); returns the previous one. 409 if another account has it."""
    user = await repository.get_for_update(db, user_id)
    if user is None or user.erased_at is not None:
        raise NotFound(f"No users record {user_id}")
    previous = user.email
    try:
        async with db.begin_nested():
            user.email = new_email.lower()
            user.email_verified_at = func.now() if verified else None
            await db.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Another account uses this email address", errors=[{"loc": ["email"]}]
        ) from exc
    return previous


async def set_password_hash(db: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    await repository.set_password_hash(db, user_id, password_hash)


async def _existing(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get(db, user_id)
    if user is None:
        raise NotFound(f"No users record {user_id}")
    return user


async def _ensure_an_active_admin_remains(db: AsyncSession, losing: uuid.UUID) -> None:
    """Nobody may lock the platform out of administration by accident."""
    admins = await rbac.user_ids_with_role(db, ADMIN_ROLE)
    if losing not in admins:
        return
    others = [a for a in admins if a != losing]
    if not others or await repository.count_with_state(db, others, active=True) == 0:
        raise Conflict("This is the last active administrator; appoint another one first")


def _out(user: User, roles: list[str]) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        is_active=user.is_active,
        email_verified_at=user.email_verified_at,
        roles=roles,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def display_name(user: User) -> str:
    """The name other people see, and that a mail greets the user with."""
    return user.display_name or default_display_name(user.first_name, user.last_name, user.username)


def default_display_name(first_name: str, last_name: str, username: str) -> str:
    """First name and last initial ("Ana S."), the first name alone, else the username."""
    if first_name and last_name:
        return f"{first_name} {last_name[0]}."
    return first_name or username


def _badge(roles: Sequence[str]) -> Badge:
    if ADMIN_ROLE in roles:
        return "admin"
    return "teacher" if TEACHER_ROLE in roles else "learner"


async def cards(
    db: AsyncSession, user_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, UserCard]:
    """The public cards of these users (the erased and unknown are left out): two queries
    whatever their number."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows, roles = await repository.card_rows(db, ids), await rbac.role_names_of_users(db, ids)
    return {
        row.id: UserCard(
            id=row.id,
            display_name=row.display_name
            or default_display_name(row.first_name, row.last_name, row.username),
            avatar_url=row.avatar_url,
            badge=_badge(roles.get(row.id, [])),
        )
        for row in rows
    }


async def card(db: AsyncSession, user_id: uuid.UUID | None) -> UserCard | None:
    return None if user_id is None else (await cards(db, [user_id])).get(user_id)


async def usernames(db: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    return await repository.usernames(db, user_ids)


async def is_active_user(db: AsyncSession, user_id: uuid.UUID) -> bool:
    user = await repository.get(db, user_id)
    return user is not None and user.is_active


async def _export_account(db: AsyncSession, user_id: uuid.UUID) -> dict[str, object]:
    return (await get_user_unchecked(db, user_id)).model_dump(mode="json")


register_user_table(
    UserTable("users", "user", _export_account),
    UserTable("user_roles", excluded_because="the user's roles are part of `user`"),
)


async def require_active_user(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get(db, user_id)
    if user is None or not user.is_active:
        raise NotFound(f"No users record {user_id}")
    return user


async def signups_over_time(
    db: AsyncSession, start: datetime, end: datetime, bucket: str
) -> list[tuple[datetime, int]]:
    return await repository.signups_per_bucket(db, start, end, bucket)
