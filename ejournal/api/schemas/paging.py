"""Paging of the lists, and their query parameters, validated strictly.

A list is paged by ``limit`` (1–500, 100 by default) and ``offset`` (0 by default) over a stable
order that each list documents; the page says the ``total`` and links the ``next`` page (None on
the last). Query parameters are models that refuse what they do not name (``extra_forbidden``), and
a count is ASCII digits only: ``limit=5.0``, ``limit= 5`` or ``limit=1_0``, which pydantic's lax
parsing of a query string would take as numbers, are refused (``query_integer``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ejournal.api.schemas.common import Output

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


def _digits(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    raise PydanticCustomError("query_integer", "Ожидается целое число (цифры 0–9).")


Count = Annotated[int, BeforeValidator(_digits)]
"""A non-negative whole number of a query string, in digits."""


class QueryParameters(BaseModel):
    """A query string: only the parameters the model names."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(QueryParameters):
    """The query of a list: its page; each list adds its filters."""

    limit: Annotated[Count, Field(ge=1, le=MAX_LIMIT, description="Items per page")] = 100
    offset: Annotated[Count, Field(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0


class PageOut(Output):
    """One page of a list."""

    total: int = Field(description="Items in the whole list")
    limit: int
    offset: int
    next: str | None = Field(
        description="The path and query of the next page; None on the last page"
    )
