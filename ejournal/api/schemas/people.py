"""Personal data (п. 1.7, I9): what the vault keeps of a person."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.common import Id, Input, Name, Output, SchoolDate

ContactKind = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[a-z_]+(:[0-9a-f-]{32,36})?$",
        description="e.g. email, phone; email:<reference> is a subscription's address, which a "
        "body may only send back unchanged",
    ),
]
Contact = Annotated[Name, Field(max_length=200)]


class PersonIn(Input):
    full_name: Name
    birth_date: SchoolDate | None = None
    contacts: Annotated[dict[ContactKind, Contact], Field(max_length=10)] = Field(
        default_factory=dict, description="e.g. email, phone"
    )
    school_id: Id | None = Field(
        default=None,
        description="The school registering the person (whose administration keeps it)",
    )


class PersonOut(Output):
    person_id: UUID
    school_id: UUID | None
    full_name: str
    birth_date: SchoolDate | None = None
    contacts: dict[str, str]
