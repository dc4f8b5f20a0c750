from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from oneenglish.auth.dependencies import Require
from oneenglish.core.cursors import CursorPage
from oneenglish.core.dependencies import AppSettings
from oneenglish.core.principal import Principal
from oneenglish.core.routing import ApiRouter
from oneenglish.db.mongo import MongoDb
from oneenglish.error_logs import service
from oneenglish.error_logs.schemas import ErrorLogOut, ErrorLogQuery, ErrorLogSummaryOut

router = ApiRouter(prefix="/api/error-logs", tags=["error logs"])


@router.get(
    "",
    summary="Unhandled errors, newest first (error_logs:read)",
    description="Filter by `error_type`, `user_id` and a time range (`from` inclusive, `to` "
    "exclusive; `from` after `to` is a 422). Items leave out the stack; read one error for it. "
    "Pass `next_cursor` back as `cursor` for the next page.",
)
async def list_error_logs(
    query: Annotated[ErrorLogQuery, Query()],
    mongo: MongoDb,
    settings: AppSettings,
    _: Annotated[Principal, Require("error_logs", "read")],
) -> CursorPage[ErrorLogSummaryOut]:
    return await service.list_errors(mongo, settings, query)


@router.get("/{error_id}", summary="One error with its stack (error_logs:read)")
async def get_error_log(
    error_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The error_id")],
    mongo: MongoDb,
    _: Annotated[Principal, Require("error_logs", "read")],
) -> ErrorLogOut:
    return await service.get_error(mongo, error_id)
