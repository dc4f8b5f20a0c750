from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oneenglish.core.documents import check_storable

SettingKey = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]


class SettingsOut(BaseModel):
    user_id: str
    settings: dict[str, Any]
    updated_at: datetime


class SettingsPatch(BaseModel):
    """Merged into the stored settings key by key; a key set to null is removed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "settings": {
                        "timezone": "Europe/Madrid",
                        "theme": "dark",
                        "emailNotifications": False,
                    }
                }
            ]
        },
        extra="forbid",
    )

    settings: Annotated[dict[SettingKey, Any], Field(min_length=1, max_length=100)]

    @field_validator("settings")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            check_storable(item, f"$.settings.{key}")
        return value
