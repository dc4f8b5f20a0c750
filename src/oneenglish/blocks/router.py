from __future__ import annotations

import uuid

from fastapi import status

from oneenglish.auth.dependencies import CurrentActor, CurrentUser
from oneenglish.blocks import service
from oneenglish.blocks.schemas import BlockIn, BlockOut
from oneenglish.core.pagination import Page, Pagination
from oneenglish.core.routing import ApiRouter
from oneenglish.db.postgres import DbSession

router = ApiRouter(prefix="/api/me/blocks", tags=["blocks"])


@router.get("", summary="The users I have blocked, newest first")
async def list_blocks(db: DbSession, principal: CurrentUser, page: Pagination) -> Page[BlockOut]:
    items, total = await service.blocks_of(db, principal.id, page.page_size, page.offset)
    return Page(items=items, total=total, page=page.page, page_size=page.page_size)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Block a user: neither of you can message the other (blocking again is a no-op)",
    responses={404: {"description": "No such user"}, 422: {"description": "Yourself"}},
)
async def block_user(
    body: BlockIn, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> BlockOut:
    block = await service.block(db, actor, principal.id, body.user_id)
    return block


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unblock a user",
    responses={404: {"description": "Not blocked"}},
)
async def unblock_user(
    user_id: uuid.UUID, db: DbSession, principal: CurrentUser, actor: CurrentActor
) -> None:
    await service.unblock(db, actor, principal.id, user_id)
