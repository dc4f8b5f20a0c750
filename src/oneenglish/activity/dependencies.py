from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oneenglish.activity.service import ActivityLog


async def _activity_log(request: Request) -> ActivityLog:
    activity_log: ActivityLog = request.app.state.activity_log
    return activity_log


ActivityLogDep = Annotated[ActivityLog, Depends(_activity_log)]
