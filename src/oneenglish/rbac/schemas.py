from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,48}$")]
Description = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
PermissionName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,48}:[a-z][a-z0-9_-]{1,48}$")
]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoleIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "assistant", "description": "Helps teachers with their courses"}]
        }
    )
    name: Name
    description: Description = ""


class RolePatch(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"description": "Helps teachers mark quizzes"}]}
    )
    name: Name | None = None
    description: Description | None = None


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    is_system: bool
    created_at: datetime
    updated_at: datetime


class RoleWithPermissionsOut(RoleOut):
    permissions: list[str]


class PermissionIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resource": "reports",
                    "action": "read",
                    "description": "Read the teachers' reports",
                }
            ]
        }
    )
    resource: Name
    action: Name
    description: Description = ""


class PermissionPatch(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"description": "Read every course, published or not"}]}
    )
    description: Description


class PermissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    resource: str
    action: str
    description: str
    created_at: datetime
    updated_at: datetime


class PermissionNames(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"permissions": ["courses:read", "courses:update"]}]}
    )
    permissions: list[PermissionName] = Field(max_length=500)


class RoleNames(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"roles": ["student", "teacher"]}]})
    roles: list[Name] = Field(max_length=50)
