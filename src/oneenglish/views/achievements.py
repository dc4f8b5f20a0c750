"""Achievements as others see them: a user's list and leaderboards, ranked by MongoDB's
aggregate and named from PostgreSQL.

A user's list is theirs, staff's (`users:read`), and that of the people they meet in a course
(classmates, their teachers and learners); to anyone else it is a 404 like an id that names
nobody, so the list cannot be used to find out which ids are users."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.achievements import service as achievements
from oneenglish.achievements.schemas import AchievementPage, Leaderboard, LeaderboardEntry
from oneenglish.core.cursors import CursorCodec
from oneenglish.core.errors import NotFound
from oneenglish.core.principal import Principal
from oneenglish.courses import service as courses
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.users import service as users


async def achievements_of(
    db: AsyncSession,
    mongo: Database,
    codec: CursorCodec,
    principal: Principal,
    user_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> AchievementPage:
    if user_id != principal.id:
        visible = await users.is_active_user(db, user_id) and (
            principal.can("users", "read")
            or await enrollments.share_a_course(db, principal.id, user_id)
        )
        if not visible:
            raise NotFound(f"No user {user_id}")
    return await achievements.of_user(mongo, codec, user_id, cursor, limit)


async def leaderboard(
    db: AsyncSession,
    mongo: Database,
    principal: Principal,
    course_id: uuid.UUID | None,
    limit: int,
) -> Leaderboard:
    if course_id is not None:
        await courses.get_visible(db, principal, course_id)
    top = await achievements.top_learners(mongo, course_id, limit)
    ids = [uuid.UUID(user) for user, _ in top]
    names, cards = await users.usernames(db, ids), await users.cards(db, ids)
    entries: list[LeaderboardEntry] = []
    for position, (user, points) in enumerate(top, start=1):
        # Standard competition ranking: equal points share a rank (1, 2, 2, 4).
        rank = entries[-1].rank if entries and entries[-1].points == points else position
        user_id = uuid.UUID(user)
        entries.append(
            LeaderboardEntry(
                rank=rank,
                user_id=user_id,
                username=names.get(user_id),
                user=cards.get(user_id),
                points=points,
            )
        )
    return Leaderboard(course_id=course_id, entries=entries)
