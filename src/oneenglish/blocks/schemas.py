from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class BlockIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user_id": "3f2b9a4c-6d1e-4f7a-9b2c-8e5d4a1c7f60"}]},
        extra="forbid",
    )

    user_id: uuid.UUID


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    created_at: datetime
