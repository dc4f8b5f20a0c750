from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from oneenglish.users.schemas import UserCard

Level = Literal["A1", "A2", "B1", "B2", "C1", "C2"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=200)]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Price = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 4217, upper case (EUR, USD, GBP …)", examples=["EUR"]),
]
CENT = Decimal("0.01")
CourseSort = Literal["newest", "oldest", "title", "price", "-price"]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CourseIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Business English: Meetings and Emails",
                    "level": "B2",
                    "price": "29.99",
                    "description": "Run a meeting and write emails that get answers.",
                }
            ]
        }
    )
    title: Title
    slug: Slug | None = Field(None, description="Generated from the title when left out")
    description: Description = ""
    level: Level
    price: Price = Decimal("0")
    currency: Currency | None = Field(None, description="DEFAULT_CURRENCY when left out")
    sequential: bool = Field(
        False, description="Lessons open in order: each once the previous one is completed"
    )


class CoursePatch(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"price": "24.99", "description": "Now with a lesson on video calls."}]
        }
    )
    title: Title | None = None
    slug: Slug | None = None
    description: Description | None = None
    level: Level | None = None
    price: Price | None = Field(None, description="Orders already placed keep their price")
    currency: Currency | None = None
    sequential: bool | None = None


class CourseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    slug: str
    description: str
    level: Level
    price: Decimal
    currency: str
    is_published: bool
    sequential: bool
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    teacher: UserCard | None = Field(
        None, description="Its teacher's public card (on reads of the catalogue)"
    )

    @field_serializer("price")
    def _money(self, price: Decimal) -> str:
        return str(price.quantize(CENT))


class CourseFilters(BaseModel):
    level: Level | None = None
    published: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    search: str | None = None
    mine: bool = False
    sort: CourseSort = "newest"
