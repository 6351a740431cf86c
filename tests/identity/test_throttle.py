"""The throttle on password checks (п. 4.1), on SQLite and PostgreSQL: the database decides each
turn in one statement, as ``Lane.delay`` says; parallel attempts never share a turn; the owner's
source has a lane of its own; counts are forgotten after a quiet hour; no lane ever locks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ejournal.identity.credentials import (
    Lane,
    LoginThrottle,
    ThrottlePolicy,
    Turn,
    Wait,
    source_of,
)
from ejournal.ledger.application import Ledger
from tests.identity.support import ledger_with_identity_tables

NOW = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def identity_ledger(database_url: str) -> Iterator[Ledger]:
    with ledger_with_identity_tables(database_url) as ledger:
        yield ledger


def _throttle(ledger: Ledger, policy: ThrottlePolicy | None = None) -> LoginThrottle:
    return LoginThrottle(ledger.database, policy or ThrottlePolicy())


@pytest.mark.parametrize(
    "lane",
    [
        Lane(3),
        Lane(1, timedelta(seconds=2), timedelta(seconds=5)),
        Lane(2, timedelta(days=1), timedelta(days=1)),
    ],
)
def test_the_database_waits_as_the_lane_says(identity_ledger: Ledger, lane: Lane) -> None:
    # п. 4.1: free checks, then each check waits twice as long as the one before, up to the
    # longest wait; the database's arithmetic is the policy's.
    wide = Lane(1000)
    policy = ThrottlePolicy(
        per_login_and_source=lane, per_login=wide, per_source=wide, forget_after=timedelta(days=7)
    )
    throttle = _throttle(identity_ledger, policy)
    now = NOW
    for attempt in range(1, 16):
        turn = throttle.take_turn("teacher", "10.0.0.1", now=now)
        assert isinstance(turn, Turn), f"check {attempt} refused"
        wait = lane.delay(attempt)
        assert wait <= lane.max_delay
        if wait:
            early = now + wait - timedelta(microseconds=1)
            refused = throttle.take_turn("teacher", "10.0.0.1", now=early)
            assert isinstance(refused, Wait) and refused.until == now + wait
            assert refused.seconds(now) == max(1, round(wait.total_seconds()))
        now += wait


def test_parallel_attempts_on_a_fresh_login_take_only_the_free_turns(
    identity_ledger: Ledger,
) -> None:
    # п. 4.1: the count and the decision are one step: twenty attempts at once, three checks.
    throttle = _throttle(identity_ledger)
    start = threading.Barrier(20)
    results: list[Turn | Wait] = []

    def attempt() -> None:
        start.wait()
        results.append(throttle.take_turn("fresh.login", "10.0.0.2", now=NOW))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    turns = [r for r in results if isinstance(r, Turn)]
    assert len(results) == 20
    assert len(turns) == throttle.policy.per_login_and_source.free_attempts


def test_a_refused_attempt_counts_in_no_lane(identity_ledger: Ledger) -> None:
    # A lane that must wait refuses the whole attempt; the other lanes do not count it.
    policy = ThrottlePolicy(per_login_and_source=Lane(1), per_login=Lane(2), per_source=Lane(2))
    throttle = _throttle(identity_ledger, policy)
    assert isinstance(throttle.take_turn("a.login", "10.0.0.3", now=NOW), Turn)
    for _ in range(5):
        assert isinstance(throttle.take_turn("a.login", "10.0.0.3", now=NOW), Wait)
    # The login's lane counted one check of two: another source still has its turn.
    assert isinstance(throttle.take_turn("a.login", "10.0.0.4", now=NOW), Turn)


def test_the_owners_source_is_a_lane_of_its_own(identity_ledger: Ledger) -> None:
    # п. 4.1: a stranger's wrong passwords from elsewhere never slow the owner down where the
    # login succeeded before; in a new place the owner waits no longer than a minute.
    throttle = _throttle(identity_ledger)
    owner = throttle.take_turn("teacher", "10.1.1.1", now=NOW)
    assert isinstance(owner, Turn)
    throttle.succeeded(owner, now=NOW)
    now = NOW
    for n in range(200):
        result = throttle.take_turn("teacher", f"172.16.{n // 250}.{n % 250}", now=now)
        if isinstance(result, Wait):
            assert result.until - now <= throttle.policy.longest_wait
    assert isinstance(throttle.take_turn("teacher", "10.1.1.1", now=now), Turn)
    elsewhere = throttle.take_turn("teacher", "10.9.9.9", now=now)
    assert isinstance(elsewhere, Wait)
    assert elsewhere.until - now <= throttle.policy.longest_wait
    assert isinstance(throttle.take_turn("teacher", "10.9.9.9", now=elsewhere.until), Turn)


def test_a_success_starts_afresh_and_gives_the_shared_turns_back(identity_ledger: Ledger) -> None:
    policy = ThrottlePolicy(per_login_and_source=Lane(2), per_login=Lane(2), per_source=Lane(2))
    throttle = _throttle(identity_ledger, policy)
    for _ in range(5):
        turn = throttle.take_turn("pupil", "10.2.2.2", now=NOW)
        assert isinstance(turn, Turn)
        throttle.succeeded(turn, now=NOW)
    # A source's first logins: each success gives its turn back in the source's lane.
    for n in range(5):
        turn = throttle.take_turn(f"pupil{n}", "10.3.3.3", now=NOW)
        assert isinstance(turn, Turn), n
        throttle.succeeded(turn, now=NOW)


def test_counts_are_forgotten_after_a_quiet_while(identity_ledger: Ledger) -> None:
    throttle = _throttle(identity_ledger)
    lane = throttle.policy.per_login_and_source
    for _ in range(lane.free_attempts):
        assert isinstance(throttle.take_turn("teacher", "10.0.0.5", now=NOW), Turn)
    assert isinstance(throttle.take_turn("teacher", "10.0.0.5", now=NOW), Wait)
    later = NOW + throttle.policy.forget_after + timedelta(seconds=1)
    for _ in range(lane.free_attempts):
        assert isinstance(throttle.take_turn("teacher", "10.0.0.5", now=later), Turn)


def test_the_tables_name_neither_logins_nor_addresses(identity_ledger: Ledger) -> None:
    throttle = _throttle(identity_ledger)
    turn = throttle.take_turn("teacher.login", "10.7.7.7", now=NOW)
    assert isinstance(turn, Turn)
    throttle.succeeded(turn, now=NOW)
    throttle.take_turn("teacher.login", "10.8.8.8", now=NOW)
    with identity_ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT lane FROM api_login_attempts")
        keys = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pair FROM api_login_sources")
        keys += [row[0] for row in cursor.fetchall()]
    assert keys
    assert not [k for k in keys if "teacher" in k or "10." in k]


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("testclient", "testclient"),
    ],
)
def test_a_source_is_an_address_or_an_ipv6_network(address: str, source: str) -> None:
    assert source_of(address) == source


def test_a_lane_needs_a_free_check_and_a_growing_wait() -> None:
    with pytest.raises(ValueError):
        Lane(0)
    with pytest.raises(ValueError):
        Lane(3, timedelta(seconds=10), timedelta(seconds=1))
    with pytest.raises(ValueError):
        ThrottlePolicy(forget_after=timedelta(seconds=30))
