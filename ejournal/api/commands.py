"""What a write route answers once its command is recorded: ``Accepted``, or ``Created`` with the
new record's ID. A route builds its command from the path, the caller's actor and the body (whose
``fields()`` are the command's fields of the same names) and hands it to one of these:

    return created(c.RecordMark(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)

The command's result type must match: ``accepted`` takes a ``Command[None]``, ``created`` a
``Command[UUID]``, so mypy refuses a route that would answer the wrong one.
"""

from __future__ import annotations

from uuid import UUID

from ejournal import commands as c
from ejournal.api.schemas.common import Accepted, Created
from ejournal.ledger.application import Ledger


def accepted(command: c.Command[None], ledger: Ledger) -> Accepted:
    """Record ``command`` (``commands.handle``): it creates nothing to name."""
    c.handle(command, ledger)
    return Accepted()


def created(command: c.Command[UUID], ledger: Ledger) -> Created:
    """Record ``command`` (``commands.handle``) and name the record it created."""
    return Created(id=c.handle(command, ledger))
