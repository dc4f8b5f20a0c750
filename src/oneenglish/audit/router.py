from __future__ import annotations

from typing import Annotated

from fastapi import Query

from oneenglish.audit import service
from oneenglish.audit.schemas import AuditLogOut, AuditLogQuery
from oneenglish.auth.dependencies import Require
from oneenglish.core.cursors import CursorPage
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.principal import Principal
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb

router = ApiRouter(prefix="/api/audit-logs", tags=["audit logs"])


@router.get(
    "",
    summary="Audit entries, newest first (audit_logs:read)",
    description="Every change made through the API: who (`actor`), what (`entity`, "
    "`entity_id`, `action`), before/after, from which IP. Filter by `actor`, `entity`, "
    "`entity_id` (with `entity`) and a time range (`from` inclusive, `to` exclusive; `from` "
    "after `to` is a 422). Pass `next_cursor` back as `cursor` for the next page. The log is "
    "append-only: there is no way to change or delete an entry.",
)
async def list_audit_logs(
    query: Annotated[AuditLogQuery, Query()],
    mongo: MongoDb,
    settings: AppSettings,
    _: Annotated[Principal, Require("audit_logs", "read")],
) -> CursorPage[AuditLogOut]:
    return await service.list_entries(mongo, settings, query)
