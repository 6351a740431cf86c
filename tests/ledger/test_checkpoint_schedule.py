"""Every entry is signed within a bounded time (issue 19, item 13a): the defaults, the schedule, the
supervisor of ``serve --workers``, and ``checkpoint_due`` itself."""

from __future__ import annotations

import gc
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from ejournal.integrity.errors import LeafMismatchError
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, CheckpointSchedule, load_checkpoints
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.settings import Settings
from tests.ledger.support import Forger, write_notebooks
from tests.ledger.test_checkpoints import LOG, ORIGIN, SECRET, checkpointer

BOUND_SECONDS = 15.0
"""What docs/operations.md promises: an entry is covered by a signed checkpoint within this."""


@pytest.fixture
def keys(ledger: Ledger) -> KeyStore:
    store = KeyStore(ledger.database, clock=ledger.clock)
    store.create(ORIGIN, SECRET)
    return store


def wait_for(condition: object, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_the_default_bound_is_seconds(ledger: Ledger, keys: KeyStore) -> None:
    # It was 300 s plus a 10 s poll: five minutes in which a tail could go unnoticed.
    settings = Settings.from_environment({})
    assert settings.checkpoint_every_seconds <= 10
    signer = Checkpointer(
        ledger.database,
        origin=ORIGIN,
        signers=keys.signers(SECRET),
        verifiers=keys.verifiers(),
        every_entries=settings.checkpoint_every_entries,
        every_seconds=settings.checkpoint_every_seconds,
    )
    schedule = CheckpointSchedule(signer)
    assert schedule.bound_seconds <= BOUND_SECONDS
    assert (
        Settings.from_environment({"EJOURNAL_CHECKPOINT_SECONDS": "3"}).checkpoint_every_seconds
        == 3
    )


def test_the_schedule_signs_an_entry_once_it_is_old_enough(
    ledger: Ledger, keys: KeyStore, clock: ManualClock
) -> None:
    # One entry, far fewer than every_entries: time alone makes it due.
    signer = checkpointer(ledger, keys, every_seconds=10)
    schedule = CheckpointSchedule(signer, poll_seconds=0.05)
    schedule.start()
    try:
        write_notebooks(ledger, count=1)
        time.sleep(0.3)
        assert signer.latest(LOG) is None  # not yet 10 s old
        clock.advance(timedelta(seconds=11))
        assert wait_for(lambda: signer.latest(LOG) is not None)
    finally:
        schedule.stop()
    assert signer.latest(LOG).size == 3  # type: ignore[union-attr]


def test_due_follows_new_logs_and_other_signers(
    ledger: Ledger, keys: KeyStore, clock: ManualClock
) -> None:
    # After the first look, checkpoint_due reads only the logs with new events: a new log is
    # noticed, and what another process signed meanwhile is not counted as unsigned.
    signer = checkpointer(ledger, keys, every_entries=6, every_seconds=60)
    other = checkpointer(ledger, keys)  # another process: `ejournal checkpoint`, say
    write_notebooks(ledger, count=1)
    assert signer.checkpoint_due() == []
    other.checkpoint(LOG)
    write_notebooks(ledger, count=1)
    assert signer.checkpoint_due() == []  # 3 unsigned, not 6
    write_notebooks(ledger, count=1)
    assert [cp.size for cp in signer.checkpoint_due()] == [9]
    write_notebooks(ledger, count=1, log_id="other/log")
    assert signer.checkpoint_due() == []
    clock.advance(timedelta(seconds=61))
    assert [(cp.log_id, cp.size) for cp in signer.checkpoint_due()] == [("other/log", 3)]
    assert signer.checkpoint_due() == []


def test_a_log_that_cannot_be_signed_does_not_hold_up_the_others(
    ledger: Ledger, keys: KeyStore, clock: ManualClock, database_url: str
) -> None:
    # The due logs were signed in order until one failed: a tampered "a/…" log kept every log
    # after it unsigned for ever.
    signer = checkpointer(ledger, keys, every_seconds=60)
    write_notebooks(ledger, count=1, log_id="a/log")
    write_notebooks(ledger, count=1, log_id="b/log")
    Forger(database_url).execute(
        ("UPDATE stored_events SET actor_role = 'head' WHERE log_id = 'a/log' AND idx = 1", ())
    )
    clock.advance(timedelta(seconds=61))
    with pytest.raises(Exception, match="leaf"):
        signer.checkpoint_due()
    assert signer.latest("b/log") is not None and signer.latest("a/log") is None
    with pytest.raises(Exception, match="leaf"):
        signer.checkpoint_due()  # tried again, and named again


def test_the_supervisor_of_workers_signs_due_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `serve --workers N` (PostgreSQL's production set-up): the workers do not follow the ledger,
    # and the supervisor ran only the projector, so no checkpoint was ever signed on its own.
    from ejournal.web import server

    url = f"sqlite:///{tmp_path / 'ejournal.db'}"
    ledger = Ledger(database_url=url)
    try:
        KeyStore(ledger.database).create(ORIGIN, SECRET)
        write_notebooks(ledger, count=1)
    finally:
        ledger.close()
    # _serve_workers sets these for its workers: restored afterwards.
    monkeypatch.setenv("EJOURNAL_DATABASE_URL", url)
    monkeypatch.setenv("EJOURNAL_ORIGIN", ORIGIN)
    monkeypatch.setenv(server.FOLLOW_VARIABLE, "0")
    monkeypatch.setenv("EJOURNAL_KEY_PASSPHRASE", SECRET.decode())
    signed: list[bool] = []

    def serve_workers(*args: object, **kwargs: object) -> None:
        # The workers would serve here; meanwhile the supervisor's schedule signs.
        probe = Ledger(database_url=url)
        try:
            signed.append(wait_for(lambda: LOG in load_checkpoints(probe.database), 20))
        finally:
            probe.close()

    monkeypatch.setattr(server, "serve_workers", serve_workers)
    settings = Settings(database_url=url, origin=ORIGIN, checkpoint_every_seconds=0.5)
    server._serve_workers(settings, host="127.0.0.1", port=0, workers=2, access_log=False)
    assert signed == [True]


def test_a_refused_checkpoint_leaves_no_stream_open(tmp_path: Path, clock: ManualClock) -> None:
    # A row that did not verify left the checkpointer's stream suspended, holding its connection
    # and read transaction until the garbage collector found it (after its ledger was closed, it
    # then failed as an "exception ignored"). The signing schedule meets such rows every poll.
    url = f"sqlite:///{tmp_path / 'ejournal.db'}"
    ledger = Ledger(database_url=url, clock=clock)
    keys = KeyStore(ledger.database, clock=clock)
    keys.create(ORIGIN, SECRET)
    write_notebooks(ledger, count=3)
    Forger(url).execute(("UPDATE stored_events SET actor_role = 'head' WHERE idx = 4", ()))
    unraisable: list[object] = []
    hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        try:
            checkpointer(ledger, keys).checkpoint(LOG)
        except LeafMismatchError as error:
            kept = error  # its traceback keeps whatever the failed replay left behind
        ledger.close()
        del kept
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert unraisable == []
