"""Shared field types: every value a client sends is bounded, so no input reaches the ledger that
its encoder or the database would reject with a server error."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _storable(text: str) -> str:
    # A NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded as UTF-8.
    if "\x00" in text:
        raise ValueError("the text contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("the text is not valid Unicode") from e
    return text


Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
Reason = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_storable)]
Text = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_storable)]
Login = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Password = Annotated[
    str, StringConstraints(min_length=1, max_length=256), AfterValidator(_storable)
]

SchoolDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2200, 12, 31))]
# Integers the commands judge themselves (a mark of 6 is their ``mark.invalid_value``) are only
# kept within a range every encoder and database column takes.
SmallInt = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
YearStart = Annotated[int, Field(ge=1900, le=2999, description="The year of 1 September")]


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    def fields(self) -> dict[str, Any]:
        """The body as keyword arguments of its route's command: each field by its own name, as
        validated (``c.RecordMark(actor=actor, lesson_id=lesson_id, **body.fields())``).

        A field that is ``None`` (left out, or null) is left to the command's default: none, or
        for a client-chosen ID (``mark_id`` …) a new one. A body that the command takes in
        another form overrides this (``WorkTypeIn``)."""
        values = ((name, getattr(self, name)) for name in type(self).model_fields)
        return {name: value for name, value in values if value is not None}


class Output(BaseModel):
    pass


class Accepted(Output):
    """The command was recorded."""

    status: Literal["recorded"] = "recorded"


class Created(Output):
    """The command was recorded and created the record ``id``."""

    id: UUID = Field(description="The new record's ID")
