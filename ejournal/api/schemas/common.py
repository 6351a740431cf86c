"""Shared field types: every value a client sends is bounded, so no input reaches the ledger that
its encoder or the database would reject with a server error.

Bodies are validated strictly (``Input``): a number is a JSON number, not ``"5"``, ``" 4 "``,
``4.0`` or ``true`` (pydantic's lax mode would take each as a mark of 5, 4, 4 or 1); a boolean is
``true`` or ``false``; text is a string. JSON has no type for IDs, dates, times, moments or the
names of a choice: those arrive as strings, and the types below (``Id``, ``IsoDate``, ``IsoTime``,
``IsoMoment``, ``Choice``) take them from a string only, parsed as before. Every write model
uses them; a model of strict ``UUID`` or ``date`` would refuse every valid body, which the tests
of each endpoint catch.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, PydanticKnownError


def _storable(text: str) -> str:
    # A NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded as UTF-8.
    if "\x00" in text:
        raise PydanticCustomError("text_unstorable", "текст содержит нулевой символ (код 0)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise PydanticCustomError("text_unstorable", "текст не является корректным Юникодом") from e
    return text


def _json_form(kinds: tuple[type, ...], error: str) -> BeforeValidator:
    """Accept only what JSON carries for a type (or the type itself), then parse as lax mode
    does: strict mode's refusal of str → date without lax mode's int → date or "5" → 5."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise PydanticKnownError(error)  # type: ignore[arg-type]
        return value

    return BeforeValidator(check)


Id = Annotated[UUID, Strict(False), _json_form((str, UUID), "uuid_type")]
"""A UUID, from its string."""
IsoDate = Annotated[date, Strict(False), _json_form((str, date), "date_type")]
"""A date, from its ISO string (ГГГГ-ММ-ДД)."""
IsoTime = Annotated[time, Strict(False), _json_form((str, time), "time_type")]
"""A time of day, from its ISO string (ЧЧ:ММ)."""
IsoMoment = Annotated[AwareDatetime, Strict(False), _json_form((str, datetime), "datetime_type")]
"""A moment with its time zone, from its ISO string."""
Number = Annotated[
    Decimal,
    Strict(False),
    _json_form((int, float, Decimal), "decimal_type"),
    WithJsonSchema({"type": "number"}),
]
"""A decimal number, from a JSON number (never a string or a boolean: pydantic's schema of a
decimal would offer a string too)."""

E = TypeVar("E", bound=Enum)
Choice = Annotated[E, Strict(False), _json_form((str,), "string_type")]
"""One of an enumeration's values, from its string: ``Choice[PeriodScheme]``."""


Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
Reason = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_storable)]
Text = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_storable)]
Login = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Password = Annotated[
    str, StringConstraints(min_length=1, max_length=256), AfterValidator(_storable)
]

SchoolDate = Annotated[IsoDate, Field(ge=date(2000, 1, 1), le=date(2200, 12, 31))]
# Integers the commands judge themselves (a mark of 6 is their ``mark.invalid_value``) are only
# kept within a range every encoder and database column takes.
SmallInt = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
YearStart = Annotated[int, Field(ge=1900, le=2999, description="The year of 1 September")]


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored, and every value is of its type
    as JSON writes it (strict mode; see the module's docstring)."""

    model_config = ConfigDict(extra="forbid", strict=True)

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
