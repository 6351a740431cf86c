"""The server's mail thread: plans each week's digest once it is due and delivers the outbox
(confirmations, the digest, retries) every ``poll_seconds``, like ``CheckpointSchedule``."""

from __future__ import annotations

import logging
import threading

from ejournal.mail.delivery import Delivery
from ejournal.mail.planning import DigestPlanner

log = logging.getLogger("ejournal.mail")


class DigestSchedule:
    def __init__(self, planner: DigestPlanner, delivery: Delivery, *, poll_seconds: float) -> None:
        self._planner = planner
        self._delivery = delivery
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._planned: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="ejournal-mail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def wake(self) -> None:
        """Deliver now (a parent has just asked for a confirmation message)."""
        self._wake.set()

    def tick(self) -> None:
        """One round: plan the due week if not yet planned by this process, then deliver.

        Planning is idempotent (the outbox's unique keys), so a restarted server plans the due
        week again harmlessly and a week missed while it was down is planned at start-up.
        """
        week = self._planner.due_week()
        if week != self._planned:
            added = self._planner.plan_week(week)
            log.info("planned the digest of %s: %d new messages", week, added)
            self._planned = week
        self._delivery.deliver_due()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # keep going: the next round retries, the outbox keeps the state
                log.exception("the mail round failed")
            self._wake.wait(self._poll_seconds)
            self._wake.clear()
