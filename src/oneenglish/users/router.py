from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from oneenglish.auth.dependencies import CurrentUser, Require
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.principal import Principal
from oneenglish.db.postgres import DbSession
from oneenglish.rbac.schemas import PermissionNames, RoleNames
from oneenglish.users import service
from oneenglish.users.schemas import UserCreateIn, UserFilters, UserOut, UserPatch

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", summary="List users (filter by role, active, text)")
async def list_users(
    db: DbSession,
    _: Annotated[Principal, Require("users", "read")],
    page: Pagination,
    role: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{1,48}$")] = None,
    is_active: bool | None = None,
    search: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Substring of name/email")
    ] = None,
) -> Page[UserOut]:
    filters = UserFilters(role=role, is_active=is_active, search=search)
    items, total = await service.list_users(db, filters, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user (administrators)",
    responses={409: {"description": "Email or username already registered"}},
)
async def create_user(
    body: UserCreateIn, db: DbSession, _: Annotated[Principal, Require("users", "create")]
) -> UserOut:
    user = await service.create_user(db, service.NewUser.from_input(body), body.roles)
    await db.commit()
    return user


@router.get("/{user_id}", summary="A user (yourself, or anyone with users:read)")
async def get_user(user_id: uuid.UUID, db: DbSession, principal: CurrentUser) -> UserOut:
    return await service.get_user(db, principal, user_id)


@router.patch("/{user_id}", summary="Update names (yourself) or activation (users:update)")
async def update_user(
    user_id: uuid.UUID, body: UserPatch, db: DbSession, principal: CurrentUser
) -> UserOut:
    user = await service.update_user(db, principal, user_id, body)
    await db.commit()
    return user


@router.post("/{user_id}/deactivate", summary="Deactivate a user (users:update)")
async def deactivate_user(
    user_id: uuid.UUID, db: DbSession, principal: Annotated[Principal, Require("users", "update")]
) -> UserOut:
    user = await service.deactivate_user(db, principal, user_id)
    await db.commit()
    return user


@router.put("/{user_id}/roles", summary="Replace a user's roles (roles:assign)")
async def set_user_roles(
    user_id: uuid.UUID,
    body: RoleNames,
    db: DbSession,
    _: Annotated[Principal, Require("roles", "assign")],
) -> RoleNames:
    roles = await service.set_roles(db, user_id, body.roles)
    await db.commit()
    return RoleNames(roles=roles)


@router.get("/{user_id}/permissions", summary="A user's direct grants (permissions:read)")
async def get_user_permissions(
    user_id: uuid.UUID, db: DbSession, _: Annotated[Principal, Require("permissions", "read")]
) -> PermissionNames:
    return PermissionNames(permissions=await service.direct_permissions(db, user_id))


@router.put("/{user_id}/permissions", summary="Replace a user's direct grants (permissions:assign)")
async def set_user_permissions(
    user_id: uuid.UUID,
    body: PermissionNames,
    db: DbSession,
    _: Annotated[Principal, Require("permissions", "assign")],
) -> PermissionNames:
    names = await service.set_direct_permissions(db, user_id, body.permissions)
    await db.commit()
    return PermissionNames(permissions=names)
