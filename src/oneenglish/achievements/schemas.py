from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from oneenglish.users.schemas import UserCard


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
    user: UserCard | None = Field(None, description="The learner's public card")
    points: int


class Leaderboard(BaseModel):
    course_id: uuid.UUID | None
    entries: list[LeaderboardEntry]


class StreakOut(BaseModel):
    current: int = Field(description="Consecutive days studied up to today (or yesterday)")
    longest: int
    today_done: bool = Field(description="Whether today counts already")
    today: date = Field(description="Today in the learner's time zone")
    time_zone: str = Field(description="The `timezone` setting the days are counted in")
    last_study_day: date | None
    days_studied: int
