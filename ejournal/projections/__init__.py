"""The read side: read models as SQL tables beside the ledger, a batched projector that keeps them
up to date exactly once, and the queries the HTTP layer calls.

- ``Projector`` (``projector.py``): follows the ledger by notification ID, page by page, in a
  background thread or from ``ejournal project``; ``rebuild`` replays everything.
- ``Queries`` (``queries.py``): the class journal page, the diary, the summary sheet, the monitor.
- ``invalidation.py``: the one place where п. 4.4 excludes invalidated operations from every read
  model.
- ``tables.py`` (the rows and their tables), ``handlers/`` (what each event does to them),
  ``storage.py`` (their SQL), ``decoding.py`` (payloads), ``monitor.py`` (journal-keeping rules).
"""

from ejournal.projections.errors import NotProjected, ProjectionError
from ejournal.projections.invalidation import (
    NO_RULES,
    FixedRules,
    InvalidationRule,
    RuleSet,
    RuleSource,
)
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries

__all__ = [
    "NO_RULES",
    "FixedRules",
    "InvalidationRule",
    "NotProjected",
    "ProjectionError",
    "Projector",
    "Queries",
    "RuleSet",
    "RuleSource",
]
