"""Queries on roles, permissions and their grants."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, delete, func, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.rbac.models import Permission, Role, RolePermission, UserPermission, UserRole


async def list_roles(db: AsyncSession, limit: int, offset: int) -> tuple[Sequence[Role], int]:
    total = await db.scalar(select(func.count()).select_from(Role))
    rows = await db.scalars(select(Role).order_by(Role.name).limit(limit).offset(offset))
    return rows.all(), total or 0


async def get_role(db: AsyncSession, role_id: uuid.UUID) -> Role | None:
    return await db.get(Role, role_id)


async def roles_by_name(db: AsyncSession, names: Iterable[str]) -> dict[str, Role]:
    rows = await db.scalars(select(Role).where(Role.name.in_(list(names))))
    return {role.name: role for role in rows}


async def add_role(db: AsyncSession, name: str, description: str, is_system: bool) -> Role:
    role = Role(name=name, description=description, is_system=is_system)
    db.add(role)
    await db.flush()
    await db.refresh(role)
    return role


async def delete_role(db: AsyncSession, role: Role) -> None:
    await db.delete(role)
    await db.flush()


async def list_permissions(
    db: AsyncSession, limit: int, offset: int, resource: str | None
) -> tuple[Sequence[Permission], int]:
    query = select(Permission)
    count = select(func.count()).select_from(Permission)
    if resource is not None:
        query = query.where(Permission.resource == resource)
        count = count.where(Permission.resource == resource)
    total = await db.scalar(count)
    rows = await db.scalars(query.order_by(Permission.name).limit(limit).offset(offset))
    return rows.all(), total or 0


async def get_permission(db: AsyncSession, permission_id: uuid.UUID) -> Permission | None:
    return await db.get(Permission, permission_id)


async def permissions_by_name(db: AsyncSession, names: Iterable[str]) -> dict[str, Permission]:
    rows = await db.scalars(select(Permission).where(Permission.name.in_(list(names))))
    return {p.name: p for p in rows}


async def add_permission(
    db: AsyncSession, resource: str, action: str, description: str
) -> Permission:
    permission = Permission(
        name=f"{resource}:{action}", resource=resource, action=action, description=description
    )
    db.add(permission)
    await db.flush()
    await db.refresh(permission)
    return permission


async def delete_permission(db: AsyncSession, permission: Permission) -> None:
    await db.delete(permission)
    await db.flush()


async def permission_names_of_role(db: AsyncSession, role_id: uuid.UUID) -> list[str]:
    rows = await db.scalars(
        select(Permission.name)
        .join(RolePermission, RolePermission.permission_id == Permission.id)
        .where(RolePermission.role_id == role_id)
        .order_by(Permission.name)
    )
    return list(rows)


async def replace_role_permissions(
    db: AsyncSession, role_id: uuid.UUID, permission_ids: Iterable[uuid.UUID]
) -> None:
    await db.execute(delete(RolePermission).where(RolePermission.role_id == role_id))
    values = [{"role_id": role_id, "permission_id": pid} for pid in permission_ids]
    if values:
        await db.execute(insert(RolePermission).values(values))


# Only what is taken away is deleted: a delete from these tables ends the user's sessions
# (migration 0005), which adding a role must not do.


async def replace_user_roles(
    db: AsyncSession, user_id: uuid.UUID, role_ids: Iterable[uuid.UUID]
) -> None:
    wanted = list(role_ids)
    await db.execute(
        delete(UserRole).where(UserRole.user_id == user_id, UserRole.role_id.not_in(wanted))
    )
    if wanted:
        await db.execute(
            insert(UserRole)
            .values([{"user_id": user_id, "role_id": rid} for rid in wanted])
            .on_conflict_do_nothing()
        )


async def replace_user_permissions(
    db: AsyncSession, user_id: uuid.UUID, permission_ids: Iterable[uuid.UUID]
) -> None:
    wanted = list(permission_ids)
    await db.execute(
        delete(UserPermission).where(
            UserPermission.user_id == user_id, UserPermission.permission_id.not_in(wanted)
        )
    )
    if wanted:
        await db.execute(
            insert(UserPermission)
            .values([{"user_id": user_id, "permission_id": pid} for pid in wanted])
            .on_conflict_do_nothing()
        )


async def role_names_of_users(
    db: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    result: dict[uuid.UUID, list[str]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    rows = await db.execute(
        select(UserRole.user_id, Role.name)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_(user_ids))
        .order_by(Role.name)
    )
    for user_id, name in rows:
        result[user_id].append(name)
    return result


async def direct_permission_names_of_user(db: AsyncSession, user_id: uuid.UUID) -> list[str]:
    rows = await db.scalars(
        select(Permission.name)
        .join(UserPermission, UserPermission.permission_id == Permission.id)
        .where(UserPermission.user_id == user_id)
        .order_by(Permission.name)
    )
    return list(rows)


# -- seeding -------------------------------------------------------------------------------


async def insert_missing_permissions(
    db: AsyncSession, rows: Sequence[tuple[str, str, str]]
) -> list[str]:
    """Insert absent permissions; returns the names of those this call created."""
    created = await db.scalars(
        insert(Permission)
        .values(
            [{"name": f"{r}:{a}", "resource": r, "action": a, "description": d} for r, a, d in rows]
        )
        .on_conflict_do_nothing()
        .returning(Permission.name)
    )
    return list(created)


async def insert_missing_roles(db: AsyncSession, rows: Sequence[tuple[str, str]]) -> list[str]:
    created = await db.scalars(
        insert(Role)
        .values([{"name": n, "description": d, "is_system": True} for n, d in rows])
        .on_conflict_do_nothing()
        .returning(Role.name)
    )
    return list(created)


async def grant_to_role(db: AsyncSession, role_name: str, permission_names: Sequence[str]) -> None:
    if not permission_names:
        return
    # Every (role, permission) pair wanted: a deliberate cross join of the two filtered sets.
    query = (
        select(Role.id, Permission.id)
        .join(Permission, true())
        .where(Role.name == role_name, Permission.name.in_(list(permission_names)))
    )
    await db.execute(
        insert(RolePermission)
        .from_select(["role_id", "permission_id"], query)
        .on_conflict_do_nothing()
    )


async def all_permission_names(db: AsyncSession) -> list[str]:
    return list(await db.scalars(select(Permission.name)))


async def assign_role(db: AsyncSession, user_id: uuid.UUID, role_name: str) -> bool:
    """Give a user a role by name; False when no such role exists."""
    role_id = await db.scalar(select(Role.id).where(Role.name == role_name))
    if role_id is None:
        return False
    await db.execute(
        insert(UserRole).values(user_id=user_id, role_id=role_id).on_conflict_do_nothing()
    )
    return True


async def user_ids_with_role(db: AsyncSession, role_name: str) -> Sequence[uuid.UUID]:
    rows = await db.scalars(
        select(UserRole.user_id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.name == role_name)
    )
    return rows.all()


def user_ids_with_role_query(role_name: str) -> Select[uuid.UUID]:
    """A subquery other domains can compose, so a role filter stays one SQL statement."""
    return (
        select(UserRole.user_id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.name == role_name)
    )


def role_names_sql(user_id: str) -> str:
    """The names of a user's roles as one array column, sorted, for another domain's statement
    on the driver to select (a user and their roles in one round trip); `user_id` is the SQL
    expression of the user's id in that statement."""
    return (
        "(SELECT coalesce(array_agg(r.name ORDER BY r.name), '{}'::varchar[]) "  # noqa: S608 - user_id is our own SQL expression
        "FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
        f"WHERE ur.user_id = {user_id})"
    )
