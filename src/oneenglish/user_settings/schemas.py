from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

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


# What a notification of each type does (README "Notification preferences"): shown in the
# inbox only; also mailed at once; also gathered into a daily or weekly digest mail; or not
# even shown.
NotificationType = Literal[
    "direct_message", "enrolled", "lesson_completed", "course_completed", "achievement_earned"
]
Channel = Literal["in_app", "email", "digest_daily", "digest_weekly", "off"]
NOTIFICATION_TYPES: tuple[str, ...] = NotificationType.__args__  # type: ignore[attr-defined]
DEFAULT_CHANNELS: dict[str, str] = {
    "direct_message": "email",
    "enrolled": "in_app",
    "lesson_completed": "in_app",
    "course_completed": "email",
    "achievement_earned": "in_app",
}
# The master switch of the general settings: false keeps every mail channel in the inbox.
EMAIL_SWITCH_KEY = "emailNotifications"


class NotificationPreferencesOut(BaseModel):
    preferences: dict[NotificationType, Channel] = Field(
        description="Every notification type, with its channel (the default where unset)"
    )
    email_enabled: bool = Field(
        description="The `emailNotifications` setting: when false, nothing is mailed "
        "(email and digest channels act as in_app)"
    )


class NotificationPreferencesPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"preferences": {"direct_message": "digest_daily", "achievement_earned": "off"}}
            ]
        },
    )

    preferences: Annotated[dict[NotificationType, Channel], Field(min_length=1)]


class Unsubscribed(BaseModel):
    notification_types: list[NotificationType] = Field(
        description="The types the link named: none of them is mailed any more (those that "
        "were go to in_app; those that were off stay off)"
    )
    email: Literal[False] = False
