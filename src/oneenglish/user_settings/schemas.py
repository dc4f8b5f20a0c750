from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oneenglish.core.documents import check_storable

SettingKey = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
# The learner's time zone: their study days and streaks are counted in it.
TIMEZONE_KEY = "timezone"


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (the system's tz database)."""
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(value: object) -> bool:
    return isinstance(value, str) and value in time_zones()


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
        zone = value.get(TIMEZONE_KEY)
        if zone is not None and not is_time_zone(zone):
            raise ValueError(
                f"settings.{TIMEZONE_KEY} must be an IANA time zone name such as "
                "'Europe/Madrid' or 'UTC'"
            )
        return value
