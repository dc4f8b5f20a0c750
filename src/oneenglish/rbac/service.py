"""Roles, permissions and grants: the rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, InvalidInput, NotFound
from oneenglish.db.postgres import UserTable, register_user_table
from oneenglish.rbac import repository
from oneenglish.rbac.defaults import ADMIN_ROLE, ALL, DEFAULT_PERMISSIONS, DEFAULT_ROLES
from oneenglish.rbac.models import Permission, Role
from oneenglish.rbac.schemas import PermissionIn, PermissionPatch, RoleIn, RolePatch


async def seed_defaults(db: AsyncSession) -> None:
    """Create missing default permissions and roles. A new permission is granted to the default
    roles that should hold it; grants an administrator removed are not given back."""
    new_permissions = await repository.insert_missing_permissions(db, DEFAULT_PERMISSIONS)
    new_roles = set(
        await repository.insert_missing_roles(
            db, [(name, desc) for name, (desc, _) in DEFAULT_ROLES.items()]
        )
    )
    all_names = await repository.all_permission_names(db)
    for name, (_, grants) in DEFAULT_ROLES.items():
        wanted = all_names if ALL in grants else list(grants)
        if name == ADMIN_ROLE:
            wanted = all_names  # admin holds every permission, including custom ones
        elif name not in new_roles:
            wanted = [p for p in wanted if p in new_permissions]
        await repository.grant_to_role(db, name, wanted)


# -- roles -------------------------------------------------------------------------------


async def list_roles(db: AsyncSession, limit: int, offset: int) -> tuple[Sequence[Role], int]:
    return await repository.list_roles(db, limit, offset)


async def get_role(db: AsyncSession, role_id: uuid.UUID) -> Role:
    role = await repository.get_role(db, role_id)
    if role is None:
        raise NotFound(f"No role {role_id}")
    return role


async def role_permissions(db: AsyncSession, role_id: uuid.UUID) -> list[str]:
    return await repository.permission_names_of_role(db, role_id)


def _role_snapshot(role: Role) -> dict[str, object]:
    return {"name": role.name, "description": role.description}


def _permission_snapshot(permission: Permission) -> dict[str, object]:
    return {"name": permission.name, "description": permission.description}


async def create_role(db: AsyncSession, actor: Actor, data: RoleIn) -> Role:
    try:
        async with db.begin_nested():
            role = await repository.add_role(db, data.name, data.description, is_system=False)
    except IntegrityError as exc:
        raise Conflict(f"A role named {data.name!r} exists", field="name") from exc
    audit.record(db, actor, "role.created", "role", role.id, after=_role_snapshot(role))
    return role


async def update_role(db: AsyncSession, actor: Actor, role_id: uuid.UUID, patch: RolePatch) -> Role:
    role = await get_role(db, role_id)
    before = _role_snapshot(role)
    if patch.name is not None and patch.name != role.name:
        if role.is_system:
            raise Conflict(f"The default role {role.name!r} cannot be renamed")
        role.name = patch.name
    if patch.description is not None:
        role.description = patch.description
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:
        raise Conflict(f"A role named {patch.name!r} exists", field="name") from exc
    await db.refresh(role)
    after = _role_snapshot(role)
    if after != before:
        audit.record(db, actor, "role.updated", "role", role.id, before=before, after=after)
    return role


async def delete_role(db: AsyncSession, actor: Actor, role_id: uuid.UUID) -> None:
    role = await get_role(db, role_id)
    if role.is_system:
        raise Conflict(f"The default role {role.name!r} cannot be deleted")
    before = {**_role_snapshot(role), "permissions": await role_permissions(db, role.id)}
    await repository.delete_role(db, role)
    audit.record(db, actor, "role.deleted", "role", role_id, before=before)


async def set_role_permissions(
    db: AsyncSession, actor: Actor, role_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    role = await get_role(db, role_id)
    if role.name == ADMIN_ROLE:
        raise Conflict("The admin role always holds every permission")
    permissions = await _permissions_named(db, names)
    before = await role_permissions(db, role.id)
    await repository.replace_role_permissions(db, role.id, [p.id for p in permissions])
    after = sorted(p.name for p in permissions)
    audit.record(
        db,
        actor,
        "role.permissions_set",
        "role",
        role.id,
        before={"permissions": before},
        after={"permissions": after},
    )
    return after


async def set_user_roles(db: AsyncSession, user_id: uuid.UUID, names: Sequence[str]) -> list[str]:
    wanted = set(names)
    found = await repository.roles_by_name(db, wanted)
    missing = sorted(wanted - found.keys())
    if missing:
        raise InvalidInput(f"Unknown roles: {', '.join(missing)}", unknown=missing)
    await repository.replace_user_roles(db, user_id, [r.id for r in found.values()])
    return sorted(found)


async def set_user_permissions(
    db: AsyncSession, user_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    permissions = await _permissions_named(db, names)
    await repository.replace_user_permissions(db, user_id, [p.id for p in permissions])
    return sorted(p.name for p in permissions)


async def assign_role(db: AsyncSession, user_id: uuid.UUID, role_name: str) -> None:
    if not await repository.assign_role(db, user_id, role_name):
        raise InvalidInput(f"Unknown role: {role_name}", unknown=[role_name])


async def role_names_of_users(
    db: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    return await repository.role_names_of_users(db, user_ids)


async def direct_permissions_of_user(db: AsyncSession, user_id: uuid.UUID) -> list[str]:
    return await repository.direct_permission_names_of_user(db, user_id)


register_user_table(UserTable("user_permissions", "direct_permissions", direct_permissions_of_user))


async def user_ids_with_role(db: AsyncSession, role_name: str) -> Sequence[uuid.UUID]:
    return await repository.user_ids_with_role(db, role_name)


def user_ids_with_role_query(role_name: str) -> Select[uuid.UUID]:
    return repository.user_ids_with_role_query(role_name)


def role_names_sql(user_id: str) -> str:
    return repository.role_names_sql(user_id)


# -- permissions ---------------------------------------------------------------------------


async def list_permissions(
    db: AsyncSession, limit: int, offset: int, resource: str | None
) -> tuple[Sequence[Permission], int]:
    return await repository.list_permissions(db, limit, offset, resource)


async def get_permission(db: AsyncSession, permission_id: uuid.UUID) -> Permission:
    permission = await repository.get_permission(db, permission_id)
    if permission is None:
        raise NotFound(f"No permission {permission_id}")
    return permission


async def create_permission(db: AsyncSession, actor: Actor, data: PermissionIn) -> Permission:
    try:
        async with db.begin_nested():
            permission = await repository.add_permission(
                db, data.resource, data.action, data.description
            )
    except IntegrityError as exc:
        raise Conflict(f"Permission {data.resource}:{data.action} exists", field="name") from exc
    await repository.grant_to_role(db, ADMIN_ROLE, [permission.name])
    audit.record(
        db,
        actor,
        "permission.created",
        "permission",
        permission.id,
        after=_permission_snapshot(permission),
    )
    return permission


async def update_permission(
    db: AsyncSession, actor: Actor, permission_id: uuid.UUID, patch: PermissionPatch
) -> Permission:
    permission = await get_permission(db, permission_id)
    before = _permission_snapshot(permission)
    permission.description = patch.description
    await db.flush()
    await db.refresh(permission)
    after = _permission_snapshot(permission)
    if after != before:
        audit.record(
            db, actor, "permission.updated", "permission", permission.id, before=before, after=after
        )
    return permission


async def delete_permission(db: AsyncSession, actor: Actor, permission_id: uuid.UUID) -> None:
    permission = await get_permission(db, permission_id)
    if (permission.resource, permission.action) in {(r, a) for r, a, _ in DEFAULT_PERMISSIONS}:
        raise Conflict(f"The built-in permission {permission.name} cannot be deleted")
    before = _permission_snapshot(permission)
    await repository.delete_permission(db, permission)
    audit.record(db, actor, "permission.deleted", "permission", permission_id, before=before)


async def _permissions_named(db: AsyncSession, names: Sequence[str]) -> list[Permission]:
    wanted = set(names)
    found = await repository.permissions_by_name(db, wanted)
    missing = sorted(wanted - found.keys())
    if missing:
        raise InvalidInput(f"Unknown permissions: {', '.join(missing)}", unknown=missing)
    return list(found.values())
