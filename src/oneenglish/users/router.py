from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import Query, status
from starlette.responses import Response

from oneenglish.auth.dependencies import CurrentActor, CurrentUser, Require
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.principal import Principal
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.db.postgres import DbSession
from oneenglish.idempotency.dependencies import IdempotencyKey
from oneenglish.rbac.schemas import PermissionNames, RoleNames
from oneenglish.sagas.dependencies import Sagas
from oneenglish.users import service
from oneenglish.users.schemas import UserCard, UserCreateIn, UserFilters, UserOut, UserPatch
from oneenglish.views.account import (
    UserAccountOut,
    export_user_data,
    get_user_account,
)
from oneenglish.views.cards import card_for
from oneenglish.workflows import files as uploads
from oneenglish.workflows.erase_user import erase_user
from oneenglish.workflows.register_user import register_user

router = ApiRouter(prefix="/api/users", tags=["users"])

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "A database is unavailable (see `database` in the problem)"}
}


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
    description="The user in PostgreSQL, its profile and settings in MongoDB: 201 only when all "
    "three exist. If MongoDB is unavailable: 503, and nothing is kept in either database.",
    responses={409: {"description": "Email or username already registered"}, **UNAVAILABLE},
)
async def create_user(
    body: UserCreateIn,
    db: DbSession,
    sagas: Sagas,
    actor: CurrentActor,
    _: Annotated[Principal, Require("users", "create")],
    idempotent: IdempotencyKey,
) -> UserOut:
    return await register_user(
        db, sagas, actor, service.NewUser.from_input(body), body.roles, idempotent=idempotent
    )


@router.get(
    "/{user_id}",
    summary="A user with profile and settings (yourself, or anyone with users:read)",
    description="PostgreSQL and MongoDB are read concurrently. If MongoDB is unavailable the "
    'answer is still 200, with `profile` and `settings` null and `degraded: ["mongodb"]`. '
    "If PostgreSQL is unavailable: 503.",
    responses=UNAVAILABLE,
)
async def get_user(
    user_id: uuid.UUID, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> UserAccountOut:
    return await get_user_account(db, mongo, principal, user_id)


@router.patch("/{user_id}", summary="Update names (yourself) or activation (users:update)")
async def update_user(
    user_id: uuid.UUID,
    body: UserPatch,
    db: DbSession,
    mongo: MongoDb,
    principal: CurrentUser,
    actor: CurrentActor,
) -> UserOut:
    if body.avatar_file_id is not None:
        await uploads.ensure_avatar(mongo, user_id, body.avatar_file_id)
    user = await service.update_user(db, principal, actor, user_id, body)
    return user


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase a user from both databases (yourself, or users:delete)",
    description="Deletes every document that points at the user in MongoDB, then the user in "
    'PostgreSQL. If MongoDB is unavailable: 503 with `erasure: "pending"`: the account is '
    "deactivated at once and the erasure completes automatically when MongoDB is back.",
    responses={409: {"description": "The last active administrator"}, **UNAVAILABLE},
)
async def delete_user(
    user_id: uuid.UUID,
    db: DbSession,
    sagas: Sagas,
    principal: CurrentUser,
    actor: CurrentActor,
) -> None:
    await erase_user(db, sagas, principal, actor, user_id)


@router.get(
    "/{user_id}/export",
    summary="Everything held about a user, from both databases (yourself, or users:read)",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **UNAVAILABLE},
)
async def export_user(
    user_id: uuid.UUID, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> Response:
    data = await export_user_data(db, mongo, principal, user_id)
    return Response(
        orjson.dumps(data, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="user-{user_id}.json"'},
    )


@router.post("/{user_id}/deactivate", summary="Deactivate a user (users:update)")
async def deactivate_user(
    user_id: uuid.UUID,
    db: DbSession,
    actor: CurrentActor,
    principal: Annotated[Principal, Require("users", "update")],
) -> UserOut:
    user = await service.deactivate_user(db, principal, actor, user_id)
    return user


@router.put("/{user_id}/roles", summary="Replace a user's roles (roles:assign)")
async def set_user_roles(
    user_id: uuid.UUID,
    body: RoleNames,
    db: DbSession,
    actor: CurrentActor,
    _: Annotated[Principal, Require("roles", "assign")],
) -> RoleNames:
    roles = await service.set_roles(db, actor, user_id, body.roles)
    return RoleNames(roles=roles)


@router.get(
    "/{user_id}/card",
    summary="A user's public card: display name, avatar, role badge (never an email)",
    description="For yourself, staff (users:read), and anyone who shares a course or a "
    "conversation with the user; to anyone else a 404, as for an id that names nobody.",
)
async def user_card(
    user_id: uuid.UUID, db: DbSession, mongo: MongoDb, principal: CurrentUser
) -> UserCard:
    return await card_for(db, mongo, principal, user_id)


@router.get("/{user_id}/permissions", summary="A user's direct grants (permissions:read)")
async def get_user_permissions(
    user_id: uuid.UUID,
    db: DbSession,
    principal: Annotated[Principal, Require("permissions", "read")],
) -> PermissionNames:
    return PermissionNames(permissions=await service.direct_permissions(db, principal, user_id))


@router.put("/{user_id}/permissions", summary="Replace a user's direct grants (permissions:assign)")
async def set_user_permissions(
    user_id: uuid.UUID,
    body: PermissionNames,
    db: DbSession,
    actor: CurrentActor,
    principal: Annotated[Principal, Require("permissions", "assign")],
) -> PermissionNames:
    names = await service.set_direct_permissions(db, principal, actor, user_id, body.permissions)
    return PermissionNames(permissions=names)
