"""Password hashes by account and credential version, and the throttle on password checks.

A hash is stored under the credential version it was issued for. Login accepts only the hash of
the version the ledger's account holds now, so issuing credentials again (a password change, an
administrator's reset, or support after a breach) retires the old password at once, wherever it
was issued from. A reset's password is *one-time*: the first login with it uses it up, and the
session it opens may only change the password (``Authenticator.login``).

The throttle (п. 4.1; OWASP's Authentication Cheat Sheet and ASVS V2.2.1): a password is checked
only when every *lane* of the attempt has a turn free. Lanes are a login from one source (client
address), a login from every source it never logged in from, and a source across every login.
Each lane has a few checks free, then waits, doubling from 1 s to at most a minute; there is no
lock. A source from which the login succeeded recently is the owner's: attempts from it use their
own lane only, so a stranger elsewhere, however many wrong passwords they send, never slows the
owner down, and the owner anywhere waits at most a minute (``Retry-After``) for the next check.

Taking a turn is one statement per lane (an ``INSERT … ON CONFLICT DO UPDATE … WHERE`` that
counts the check only if the lane is free and returns the new count), all lanes in one
transaction: two processes, or two threads, never both take the last free turn.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ejournal.integrity.leaf import micros
from ejournal.ledger.database import Cursor, Database


@dataclass(frozen=True, slots=True)
class StoredCredential:
    password_hash: str
    one_time: bool
    """A reset's password: it opens one session, which may only change the password."""
    used: bool
    """A one-time password that already opened its session."""


class CredentialStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def put(
        self,
        account_id: UUID,
        version: int,
        password_hash: str,
        *,
        now: datetime,
        one_time: bool = False,
    ) -> None:
        """Store the hash for ``version`` (replacing one left by an interrupted issue)."""
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO api_credentials (account_id, credential_version, password_hash, "
                "created_at, one_time, used_at) VALUES (?, ?, ?, ?, ?, NULL) "
                "ON CONFLICT (account_id, credential_version) "
                "DO UPDATE SET password_hash = excluded.password_hash, "
                "created_at = excluded.created_at, one_time = excluded.one_time, used_at = NULL",
                (str(account_id), version, password_hash, micros(now), int(one_time)),
            )

    def get(self, account_id: UUID, version: int) -> str | None:
        stored = self.stored(account_id, version)
        return None if stored is None else stored.password_hash

    def stored(self, account_id: UUID, version: int) -> StoredCredential | None:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT password_hash, one_time, used_at FROM api_credentials "
                "WHERE account_id = ? AND credential_version = ?",
                (str(account_id), version),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return StoredCredential(str(row[0]), bool(row[1]), row[2] is not None)

    def use_up(self, account_id: UUID, version: int, *, now: datetime) -> bool:
        """Mark a one-time password used; False if it already was (by a concurrent login too:
        of two logins with it, one wins)."""
        with self._database.transaction(write=True) as cursor:
            result = cursor.execute(
                "UPDATE api_credentials SET used_at = ? WHERE account_id = ? "
                "AND credential_version = ? AND one_time = 1 AND used_at IS NULL",
                (micros(now), str(account_id), version),
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def discard(self, account_id: UUID, version: int) -> None:
        """Remove the hash of a version that was never issued (the command was refused)."""
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "DELETE FROM api_credentials WHERE account_id = ? AND credential_version = ?",
                (str(account_id), version),
            )

    def discard_older(self, account_id: UUID, version: int) -> None:
        """Old hashes serve no one once a newer version is issued: keep none (least data)."""
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "DELETE FROM api_credentials WHERE account_id = ? AND credential_version < ?",
                (str(account_id), version),
            )


@dataclass(frozen=True, slots=True)
class Lane:
    """How often one lane may have a password checked: ``free_attempts`` checks at once, then
    each further check waits twice as long as the one before, from ``first_delay`` up to
    ``max_delay``."""

    free_attempts: int
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if self.free_attempts < 1 or not timedelta(0) < self.first_delay <= self.max_delay:
            raise ValueError(f"not a throttle lane: {self}")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th check before the next one."""
        if attempts < self.free_attempts:
            return timedelta(0)
        doubled = self.first_delay * (1 << min(attempts - self.free_attempts, 30))
        return min(doubled, self.max_delay)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """The lanes of a login attempt (see the module's documentation).

    ``per_login_and_source``: one login from one source; the only lane of the owner's attempts
    from a source the login succeeded from within ``trusted_for``. ``per_login``: one login from
    every other source (a guesser with many addresses). ``per_source``: one source across every
    login it has not succeeded from (one address trying many logins; generous, as a school's
    pupils share its address). A lane's count starts afresh after ``forget_after`` without an
    attempt; a success starts its login-and-source lane afresh and gives back its turn in the
    other two.
    """

    per_login_and_source: Lane = Lane(3)
    per_login: Lane = Lane(10)
    per_source: Lane = Lane(30)
    forget_after: timedelta = timedelta(hours=1)
    trusted_for: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if self.forget_after <= self.longest_wait:
            raise ValueError("a count forgotten before its wait ends would never slow anyone")

    @property
    def longest_wait(self) -> timedelta:
        """No attempt is ever told to wait longer than this: there is no lock."""
        return max(
            lane.max_delay for lane in (self.per_login_and_source, self.per_login, self.per_source)
        )


@dataclass(frozen=True, slots=True)
class Wait:
    """A login attempt must wait until ``until``."""

    until: datetime

    def seconds(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


@dataclass(frozen=True, slots=True)
class Turn:
    """A password check the throttle admitted, and the lanes that counted it."""

    pair: str
    """The login-and-source lane."""
    shared: tuple[str, ...]
    """The login's and the source's lanes (none from the owner's source)."""


class LoginThrottle:
    """Password checks by lane, for known and unknown logins alike (it reveals no account)."""

    def __init__(self, database: Database, policy: ThrottlePolicy) -> None:
        self._database = database
        self.policy = policy

    def take_turn(self, login: str, source: str, *, now: datetime) -> Turn | Wait:
        """Count a password check of ``login`` from ``source`` in each of its lanes, or none if
        any lane must wait: a ``Turn`` (check the password), or the ``Wait`` of the lane that
        frees last (refuse, with ``Retry-After``)."""
        source = source_of(source)
        policy, now_us = self.policy, micros(now)
        pair = _digest("pair", login, source)
        shared: list[tuple[str, Lane]] = []
        if not self._trusted(pair, now_us):
            shared = [
                (_digest("login", login), policy.per_login),
                (_digest("source", source), policy.per_source),
            ]
        # One order for every attempt, so that two attempts never wait for each other's rows.
        lanes = sorted([(pair, policy.per_login_and_source), *shared], key=lambda item: item[0])
        forget_before = now_us - _us(policy.forget_after)
        try:
            with self._database.transaction(write=True) as cursor:
                busy = [
                    key
                    for key, lane in lanes
                    if not _take(cursor, key, lane, now_us, forget_before)
                ]
                if busy:
                    raise _LanesBusy(busy)  # rolls back: no lane counts a check not made
        except _LanesBusy as refused:
            return Wait(self._free_at(refused.lanes, now))
        return Turn(pair, tuple(key for key, _ in shared))

    def succeeded(self, turn: Turn, *, now: datetime) -> None:
        """The password was right: the login-and-source lane starts afresh, the other lanes get
        their turn back, and the source is the owner's for ``trusted_for``."""
        pair, now_us = turn.pair, micros(now)
        with self._database.transaction(write=True) as cursor:
            cursor.execute("DELETE FROM api_login_attempts WHERE lane = ?", (pair,))
            for key in turn.shared:
                cursor.execute(
                    "UPDATE api_login_attempts SET attempts = attempts - 1 "
                    "WHERE lane = ? AND attempts > 0",
                    (key,),
                )
            cursor.execute(
                "INSERT INTO api_login_sources (pair, last_success_at) VALUES (?, ?) "
                "ON CONFLICT (pair) DO UPDATE SET last_success_at = excluded.last_success_at",
                (pair, now_us),
            )
            # Least data: what no longer decides anything goes.
            cursor.execute(
                "DELETE FROM api_login_sources WHERE last_success_at < ?",
                (now_us - _us(self.policy.trusted_for),),
            )
            cursor.execute(
                "DELETE FROM api_login_attempts WHERE last_attempt_at < ? AND next_attempt_at < ?",
                (now_us - _us(self.policy.forget_after), now_us),
            )

    def _trusted(self, pair: str, now_us: int) -> bool:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT 1 FROM api_login_sources WHERE pair = ? AND last_success_at >= ?",
                (pair, now_us - _us(self.policy.trusted_for)),
            )
            return cursor.fetchone() is not None

    def _free_at(self, lanes: Sequence[str], now: datetime) -> datetime:
        marks = ", ".join("?" * len(lanes))
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT MAX(next_attempt_at) FROM api_login_attempts WHERE lane IN ({marks})",
                list(lanes),
            )
            row = cursor.fetchone()
        latest = None if row is None or row[0] is None else int(row[0])
        if latest is None:  # freed meanwhile: try again at once
            return now
        return now + timedelta(microseconds=max(0, latest - micros(now)))


class _LanesBusy(Exception):
    def __init__(self, lanes: list[str]) -> None:
        super().__init__(lanes)
        self.lanes = lanes


def _take(cursor: Cursor, key: str, lane: Lane, now_us: int, forget_before: int) -> bool:
    """Count a check in ``key``'s lane if the lane is free now; whether it was.

    One statement decides and counts, from the row as the last committed attempt left it
    (PostgreSQL locks the row until the transaction ends, SQLite the database): the new count,
    and the moment the lane is free again after it, or no row if the lane must wait. The times
    and the policy's numbers are integers written into the statement."""
    count = (
        f"CASE WHEN api_login_attempts.last_attempt_at < {int(forget_before)} THEN 1 "
        "ELSE api_login_attempts.attempts + 1 END"
    )
    cursor.execute(
        "INSERT INTO api_login_attempts (lane, attempts, last_attempt_at, next_attempt_at) "
        "VALUES (?, 1, ?, ?) ON CONFLICT (lane) DO UPDATE SET "
        f"attempts = {count}, last_attempt_at = excluded.last_attempt_at, "
        f"next_attempt_at = excluded.last_attempt_at + {_delay_sql(lane, count)} "
        "WHERE api_login_attempts.next_attempt_at <= excluded.last_attempt_at "
        "RETURNING attempts",
        (key, now_us, now_us + _us(lane.delay(1))),
    )
    return cursor.fetchone() is not None


def _delay_sql(lane: Lane, count: str) -> str:
    """``Lane.delay`` of the count ``count`` (an SQL expression), in microseconds, as SQL: the
    policy's numbers are written in, the count is the row's."""
    free, first, longest = lane.free_attempts, _us(lane.first_delay), _us(lane.max_delay)
    steps = 0
    while first << (steps + 1) < longest:
        steps += 1
    # From ``free`` on: first, 2 first, … up to 2^steps first, then the longest wait.
    return (
        f"CASE WHEN {count} < {free} THEN 0 "
        f"WHEN {count} > {free + steps} THEN {longest} "
        f"ELSE CAST({first} AS BIGINT) * (CAST(1 AS BIGINT) << ({count} - {free})) END"
    )


def source_of(address: str) -> str:
    """The source a client address counts as: the address, or for IPv6 its /64 network (one
    subscriber's, as a provider hands them out)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _digest(kind: str, *parts: str) -> str:
    return kind + ":" + hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)
