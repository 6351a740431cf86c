"""How far the read models are projected, as any process reads it from the database: a request
waits for the position of its caller's last write, and readiness asks whether the projector
advances.

The projector runs in one process (the supervisor of ``serve --workers``, the single server, or
``ejournal project --follow``), and the read models follow the ledger a few tens of milliseconds
later. Its position, the last notification ID it applied, is a row of the database
(``projections.storage.TRACKING_QUERY``), so every worker sees the same progress whichever
process projects (docs/adr/0009-read-your-writes.md).

- Every response to a request that saved events carries ``Ejournal-Position``: the notification
  ID of its last event. A request that sends the highest position its client holds back in the
  same header (a read, or a write whose checks read the read models) is answered once they are
  projected up to it, so that the writer sees its own writes; if they do not get there within
  ``WAIT_SECONDS``, 503.
- ``Freshness.check`` tells ``/ready`` how far behind the read models are and whether the
  position has stood still for ``stall_seconds`` with events waiting: nothing is projecting.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from starlette.concurrency import run_in_threadpool

from ejournal.ledger.async_database import AsyncDatabase
from ejournal.ledger.placement import DIRECTORY
from ejournal.projections.storage import TRACKING_QUERY, tracking

POSITION_HEADER = "Ejournal-Position"
WAIT_SECONDS = 5.0
"""How long a request waits for the read models to reach its position before it is refused (503)."""
POLL_SECONDS = 0.005
"""How often a waiting request reads the position again (on PostgreSQL, waiting requests share
the query: ``AsyncDatabase.shared``)."""
STALL_SECONDS = 10.0
"""How long the position may stand still, with events waiting, before nothing counts as
projecting (``EJOURNAL_PROJECTOR_STALL_SECONDS``)."""
MAX_POSITION = (1 << 63) - 1
"""The largest notification ID (a PostgreSQL bigint); a header beyond it is ignored."""


class ProjectorPosition(Protocol):
    """What this needs of the projector (``projections.projector.Projector``): reading its
    position, the ledger's head and the lag from the database, and waking it if it runs here."""

    def position(self) -> int: ...

    def head(self) -> int: ...

    def lag(self) -> int: ...

    def wake(self) -> None: ...

    @property
    def running(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Progress:
    """What ``Freshness.check`` found."""

    position: int
    """The notification ID the read models are projected up to."""
    lag: int
    """Events recorded after it."""
    stalled: bool
    """Events are waiting and the position has not moved for the stall period."""


class Freshness:
    """One per process (``api.bootstrap.Services``)."""

    def __init__(
        self,
        projector: ProjectorPosition,
        aio: AsyncDatabase | None,
        *,
        stall_seconds: float = STALL_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._projector = projector
        self._aio = aio
        self.stall_seconds = stall_seconds
        self.wait_seconds = wait_seconds
        self._reached = 0
        """The highest position this process has seen projected: requests up to it need no query."""
        self._lock = threading.Lock()
        self._seen: int | None = None
        self._moved_at = time.monotonic()

    # --- reads wait for their caller's writes -----------------------------------------------

    async def wait_for(self, position: int) -> bool:
        """Wait until the read models are projected up to ``position``, or up to the ledger's
        head if that is lower (a position of another database, restored from an older backup,
        say); False if ``wait_seconds`` pass first. Raises ``DatabaseUnavailableError``."""
        if position <= self._reached:
            return True
        deadline = time.monotonic() + self.wait_seconds
        if await self._position() >= position:
            return True
        position = min(position, await run_in_threadpool(self._projector.head))
        if self._projector.running:
            self._projector.wake()  # it projects here: no need to wait for its next poll
        while await self._position() < position:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True

    async def _position(self) -> int:
        if self._aio is not None and self._aio.ready:
            (rows,) = await self._aio.shared(TRACKING_QUERY)
            found = tracking(rows[0] if rows else None)
            position = found[0] if found is not None else 0
        else:
            position = await run_in_threadpool(self._projector.position)
        self._reached = max(self._reached, position)
        return position

    # --- readiness ---------------------------------------------------------------------------

    def check(self) -> Progress:
        """How far behind the read models are, and whether they have stopped following the
        ledger: events are waiting and the position has not moved since this process first saw
        it where it is, ``stall_seconds`` ago or more. Raises what the database raises."""
        position = self._projector.position()
        lag = self._projector.lag()
        now = time.monotonic()
        with self._lock:
            if position != self._seen:
                self._seen, self._moved_at = position, now
            stalled = lag > 0 and now - self._moved_at >= self.stall_seconds
        self._reached = max(self._reached, position)
        return Progress(position=position, lag=lag, stalled=stalled)


def requested_position(value: str | None) -> tuple[str, int] | None:
    """The server and position a request's ``Ejournal-Position`` header asks for (``1234`` for
    the directory's, ``shard1:1234`` for a region's server's); None for none, or for a value
    that is no notification ID (ignored rather than refused)."""
    if value is None or not value.isascii():
        return None
    server, _, number = value.rpartition(":")
    if not number.isdigit() or len(number) > 19:
        return None
    position = int(number)
    if not 0 < position <= MAX_POSITION:
        return None
    return server or DIRECTORY, position


def position_value(server: str, position: int) -> str:
    """The ``Ejournal-Position`` header of ``position`` on ``server`` (``requested_position``)."""
    return str(position) if server == DIRECTORY else f"{server}:{position}"
