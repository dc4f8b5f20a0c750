from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, status

from oneenglish.auth.dependencies import CurrentActor, Require
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.principal import Principal
from oneenglish.core.routing import ApiRouter
from oneenglish.db.postgres import DbSession
from oneenglish.rbac import service
from oneenglish.rbac.schemas import (
    PermissionIn,
    PermissionNames,
    PermissionOut,
    PermissionPatch,
    RoleIn,
    RoleOut,
    RolePatch,
    RoleWithPermissionsOut,
)

roles_router = ApiRouter(prefix="/api/roles", tags=["roles"])
permissions_router = ApiRouter(prefix="/api/permissions", tags=["permissions"])


@roles_router.get("", summary="List roles")
async def list_roles(
    db: DbSession, _: Annotated[Principal, Require("roles", "read")], page: Pagination
) -> Page[RoleOut]:
    roles, total = await service.list_roles(db, page.page_size, page.offset)
    items = [RoleOut.model_validate(r) for r in roles]
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@roles_router.post("", status_code=status.HTTP_201_CREATED, summary="Create a role")
async def create_role(
    body: RoleIn,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("roles", "create")],
) -> RoleOut:
    role = await service.create_role(db, actor, body)
    return RoleOut.model_validate(role)


@roles_router.get("/{role_id}", summary="A role with its permissions")
async def get_role(
    role_id: uuid.UUID, db: DbSession, _: Annotated[Principal, Require("roles", "read")]
) -> RoleWithPermissionsOut:
    role = await service.get_role(db, role_id)
    permissions = await service.role_permissions(db, role_id)
    return RoleWithPermissionsOut(
        **RoleOut.model_validate(role).model_dump(), permissions=permissions
    )


@roles_router.patch("/{role_id}", summary="Rename or describe a role")
async def update_role(
    role_id: uuid.UUID,
    body: RolePatch,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("roles", "update")],
) -> RoleOut:
    role = await service.update_role(db, actor, role_id, body)
    return RoleOut.model_validate(role)


@roles_router.delete(
    "/{role_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a custom role"
)
async def delete_role(
    role_id: uuid.UUID,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("roles", "delete")],
) -> None:
    await service.delete_role(db, actor, role_id)


@roles_router.put("/{role_id}/permissions", summary="Replace a role's permissions")
async def set_role_permissions(
    role_id: uuid.UUID,
    body: PermissionNames,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("roles", "update")],
) -> PermissionNames:
    names = await service.set_role_permissions(db, actor, role_id, body.permissions)
    return PermissionNames(permissions=names)


@permissions_router.get("", summary="List permissions")
async def list_permissions(
    db: DbSession,
    _: Annotated[Principal, Require("permissions", "read")],
    page: Pagination,
    resource: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{1,48}$")] = None,
) -> Page[PermissionOut]:
    rows, total = await service.list_permissions(db, page.page_size, page.offset, resource)
    items = [PermissionOut.model_validate(p) for p in rows]
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@permissions_router.post("", status_code=status.HTTP_201_CREATED, summary="Create a permission")
async def create_permission(
    body: PermissionIn,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("permissions", "create")],
) -> PermissionOut:
    permission = await service.create_permission(db, actor, body)
    return PermissionOut.model_validate(permission)


@permissions_router.get("/{permission_id}", summary="A permission")
async def get_permission(
    permission_id: uuid.UUID,
    db: DbSession,
    _: Annotated[Principal, Require("permissions", "read")],
) -> PermissionOut:
    return PermissionOut.model_validate(await service.get_permission(db, permission_id))


@permissions_router.patch("/{permission_id}", summary="Describe a permission")
async def update_permission(
    permission_id: uuid.UUID,
    body: PermissionPatch,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("permissions", "update")],
) -> PermissionOut:
    permission = await service.update_permission(db, actor, permission_id, body)
    return PermissionOut.model_validate(permission)


@permissions_router.delete(
    "/{permission_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a permission"
)
async def delete_permission(
    permission_id: uuid.UUID,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("permissions", "delete")],
) -> None:
    await service.delete_permission(db, actor, permission_id)
