from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    created_at: datetime
