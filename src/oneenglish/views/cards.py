"""A user's public card as another user asks for it: for themselves, staff (`users:read`),
and the people they meet (a course they learn in together, one teaching the other, or a
conversation). To anyone else, the same 404 as for an id that names nobody, so cards cannot
be used to find out which ids are users."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.chat import service as chat
from oneenglish.core.errors import NotFound
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.users import service as users
from oneenglish.users.schemas import UserCard


async def card_for(
    db: AsyncSession, mongo: Database, principal: Principal, user_id: uuid.UUID
) -> UserCard:
    nobody = NotFound(f"No user {user_id}")
    card = await users.card(db, user_id)
    if card is None:
        raise nobody
    if user_id == principal.id or principal.can("users", "read"):
        return card
    if await enrollments.share_a_course(db, principal.id, user_id):
        return card
    if await chat.have_conversation(mongo, principal.id, user_id):
        return card
    raise nobody
