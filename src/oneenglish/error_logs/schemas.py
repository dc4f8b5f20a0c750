from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from oneenglish.core.cursors import NewestFirstQuery

ErrorType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,199}$")]


class ErrorLogQuery(NewestFirstQuery):
    error_type: ErrorType | None = Field(
        None, description="Exception type, e.g. `RuntimeError` or `sqlalchemy.exc.DataError`"
    )
    user_id: uuid.UUID | None = Field(None, description="The user whose request failed")


class QueryParameter(BaseModel):
    name: str
    value: str  # "[redacted]" for sensitive-looking names


class ErrorContext(BaseModel):
    method: str
    path: str
    route: str | None
    request_id: str | None
    ip: str | None
    user_agent: str | None
    query: list[QueryParameter]


class ErrorLogSummaryOut(BaseModel):
    id: str  # the error_id the client was given
    user_id: str | None
    error_type: str
    message: str
    context: ErrorContext
    severity: str
    timestamp: datetime


class ErrorLogOut(ErrorLogSummaryOut):
    stack: str
