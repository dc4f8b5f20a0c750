from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from oneenglish.core.cursors import NewestFirstQuery
from oneenglish.sagas.workflow import SagaKind, SagaPayload

Entity = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,48}$")]


class AuditLogQuery(NewestFirstQuery):
    actor: uuid.UUID | None = Field(None, description="The user who made the change")
    entity: Entity | None = Field(None, description="What kind of thing changed, e.g. `user`")
    entity_id: str | None = Field(
        None, min_length=1, max_length=100, description="Which one (needs `entity`)"
    )

    @model_validator(mode="after")
    def _entity_id_needs_entity(self) -> AuditLogQuery:
        # Ids are only unique within a kind of entity, and the indexes are built that way.
        if self.entity_id is not None and self.entity is None:
            raise ValueError("`entity_id` needs `entity`")
        return self


class AuditChanges(BaseModel):
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditLogOut(BaseModel):
    id: str
    actor_id: str | None  # null: the system (recovery, compensation) or an anonymous caller
    action: str
    entity: str
    entity_id: str
    changes: AuditChanges
    ip_address: str | None
    request_id: str | None
    timestamp: datetime


class AuditEntry(SagaPayload):
    """An audit entry on its way to audit_logs: the payload of a deliver_audit saga, in the
    document's own (camelCase) shape."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    actor_id: str | None = Field(alias="actorId")
    action: str
    entity: str
    entity_id: str = Field(alias="entityId")
    changes: dict[str, Any]
    ip_address: str | None = Field(None, alias="ipAddress")
    request_id: str | None = Field(None, alias="requestId")
    timestamp: datetime

    def document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


DELIVER_AUDIT = SagaKind("deliver_audit", AuditEntry)
