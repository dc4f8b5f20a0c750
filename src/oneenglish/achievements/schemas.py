from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AchievementOut(BaseModel):
    id: str
    type: str
    title: str
    points: int
    course_id: str | None
    metadata: dict[str, Any]
    earned_at: datetime


class AchievementPage(BaseModel):
    items: list[AchievementOut]
    total_points: int
    next_cursor: str | None


class LeaderboardEntry(BaseModel):
    rank: int
    user_id: uuid.UUID
    username: str | None
    points: int


class Leaderboard(BaseModel):
    course_id: uuid.UUID | None
    entries: list[LeaderboardEntry]
