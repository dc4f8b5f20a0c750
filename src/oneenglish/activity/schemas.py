from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ActivityOut(BaseModel):
    id: str
    user_id: str
    action: str  # method and route template: "GET /api/lessons/{lesson_id}"
    resource: dict[str, str]  # the route's path parameters
    metadata: dict[str, Any]  # status, duration_ms
    ip_address: str | None
    timestamp: datetime
