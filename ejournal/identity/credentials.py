"""Password hashes by account and credential version, and the throttle on failed logins.

A hash is stored under the credential version it was issued for. Login accepts only the hash of
the version the ledger's account holds now, so issuing credentials again (a password change, an
administrator's reset, or support after a breach) retires the old password at once, wherever it
was issued from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ejournal.integrity.leaf import micros
from ejournal.ledger.database import Database


class CredentialStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def put(self, account_id: UUID, version: int, password_hash: str, *, now: datetime) -> None:
        """Store the hash for ``version`` (replacing one left by an interrupted issue)."""
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO api_credentials (account_id, credential_version, password_hash, "
                "created_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, credential_version) "
                "DO UPDATE SET password_hash = excluded.password_hash, "
                "created_at = excluded.created_at",
                (str(account_id), version, password_hash, micros(now)),
            )

    def get(self, account_id: UUID, version: int) -> str | None:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT password_hash FROM api_credentials "
                "WHERE account_id = ? AND credential_version = ?",
                (str(account_id), version),
            )
            row = cursor.fetchone()
        return None if row is None else str(row[0])

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
class ThrottlePolicy:
    """After ``free_attempts`` consecutive failures each further attempt waits twice as long as
    the one before (from ``first_delay``); after ``lock_after`` failures the login is locked for
    ``lock_for``. A success forgets the failures."""

    free_attempts: int = 3
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)
    lock_after: int = 10
    lock_for: timedelta = timedelta(minutes=15)

    def delay(self, failures: int) -> timedelta:
        if failures < self.free_attempts:
            return timedelta(0)
        doubled = self.first_delay * (1 << min(failures - self.free_attempts, 16))
        return min(doubled, self.max_delay)


@dataclass(frozen=True, slots=True)
class Wait:
    """A login attempt must wait until ``until``; ``locked`` if that is a lock-out."""

    until: datetime
    locked: bool

    def seconds(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


class LoginThrottle:
    """Failed logins by login name (known or not, so the throttle reveals no account)."""

    def __init__(self, database: Database, policy: ThrottlePolicy) -> None:
        self._database = database
        self.policy = policy

    def wait(self, login: str, *, now: datetime) -> Wait | None:
        """Whether an attempt for ``login`` must wait, and until when."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT failures, last_failure_at, locked_until FROM api_login_failures "
                "WHERE login = ?",
                (login,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        failures, last_failure, locked_until = int(row[0]), int(row[1]), row[2]
        now_us = micros(now)
        if locked_until is not None and int(locked_until) > now_us:
            return Wait(now + timedelta(microseconds=int(locked_until) - now_us), locked=True)
        delay_us = int(self.policy.delay(failures) / timedelta(microseconds=1))
        if last_failure + delay_us > now_us:
            return Wait(now + timedelta(microseconds=last_failure + delay_us - now_us), False)
        return None

    def failed(self, login: str, *, now: datetime) -> None:
        """Count a failure; the ``lock_after``-th locks the login and starts the count afresh."""
        now_us = micros(now)
        lock_until = micros(now + self.policy.lock_for)
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO api_login_failures (login, failures, last_failure_at) "
                "VALUES (?, 1, ?) ON CONFLICT (login) DO UPDATE SET "
                "failures = api_login_failures.failures + 1, "
                "last_failure_at = excluded.last_failure_at",
                (login, now_us),
            )
            cursor.execute(
                "UPDATE api_login_failures SET failures = 0, locked_until = ? "
                "WHERE login = ? AND failures >= ?",
                (lock_until, login, self.policy.lock_after),
            )

    def succeeded(self, login: str) -> None:
        with self._database.transaction(write=True) as cursor:
            cursor.execute("DELETE FROM api_login_failures WHERE login = ?", (login,))
