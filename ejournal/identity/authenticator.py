"""Authentication (п. 4.1–4.2): login, the caller of each request, logout, new credentials.

The ledger's ``Account`` says who may act: its grants, whether it is locked, and its credential
version. This module keeps what must never enter the ledger (password hashes, session tokens,
failed attempts) and binds each session to the account and credential version it was opened for.
Issuing credentials again goes through the ``IssueCredentials`` command, so the new version is a
ledger event; every session of an older version ends with it.

One refusal (``auth.invalid_token``) covers a token that is unknown, forged, expired, logged out or
of an old credential version: like Fernet, it tells an attacker nothing about why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ejournal import commands as c
from ejournal.commands.errors import refuse
from ejournal.identity.credentials import CredentialStore, LoginThrottle, ThrottlePolicy
from ejournal.identity.errors import AuthenticationError
from ejournal.identity.passwords import (
    OWASP,
    Argon2Parameters,
    acceptable_password,
    generate_password,
    hash_password,
    verify_password,
)
from ejournal.identity.sessions import Session, SessionStore, live_session_query, session_from_row
from ejournal.ledger.actor import NIL, Actor, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.async_database import AsyncDatabase
from ejournal.ledger.domain import Account
from ejournal.ledger.domain.accounts import normalise_login
from ejournal.ledger.errors import NotInMemory

DEFAULT_SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of a request: the actor the ledger attributes, and its person."""

    actor: Actor
    person_id: UUID
    login: str

    @property
    def session_id(self) -> UUID:
        return self.actor.session_id

    def holds(self, role: Role, school_id: UUID | None = None) -> bool:
        return self.actor.holds(role, school_id)

    def holds_any(self, roles: frozenset[Role], school_id: UUID | None = None) -> Role | None:
        return self.actor.holds_any(roles, school_id)


@dataclass(frozen=True, slots=True)
class Login:
    token: str
    session: Session
    caller: Caller


@dataclass(frozen=True, slots=True)
class IssuedPassword:
    account_id: UUID
    credential_version: int
    password: str


class Authenticator:
    def __init__(
        self,
        ledger: Ledger,
        credentials: CredentialStore,
        sessions: SessionStore,
        throttle: LoginThrottle,
        *,
        session_ttl: timedelta = DEFAULT_SESSION_TTL,
        hashing: Argon2Parameters = OWASP,
    ) -> None:
        self._ledger = ledger
        self._credentials = credentials
        self._sessions = sessions
        self._throttle = throttle
        self.session_ttl = session_ttl
        self._hashing = hashing
        # Compared against when there is no hash, so an unknown login takes as long as a known one.
        self._decoy = hash_password(generate_password(), hashing)

    @property
    def throttle_policy(self) -> ThrottlePolicy:
        return self._throttle.policy

    def _now(self) -> datetime:
        return self._ledger.clock()

    # Logging in and out.

    def login(self, login: str, password: str) -> Login:
        """Open a session. Raises ``AuthenticationError``: ``auth.throttled`` or
        ``auth.locked_out`` (with ``retry_after``), ``auth.invalid_credentials``; ``CommandError``
        ``account.locked`` or ``account.compromised`` for a correct password of a stopped account
        (п. 4.4)."""
        now = self._now()
        key = normalise_login(login)
        wait = self._throttle.wait(key, now=now)
        if wait is not None:
            code = "auth.locked_out" if wait.locked else "auth.throttled"
            raise AuthenticationError(code, retry_after=wait.seconds(now))
        account = self._ledger.find(Account.create_id(login=key), Account)
        stored = None
        if account is not None:
            stored = self._credentials.get(account.id, account.credential_version)
        matches = verify_password(password, stored or self._decoy)
        if account is None or stored is None or not matches:
            self._throttle.failed(key, now=now)
            raise AuthenticationError("auth.invalid_credentials")
        self._throttle.succeeded(key)
        if account.locked:
            raise refuse("account.locked")
        if account.compromised:
            raise refuse("account.compromised")
        token, session = self._sessions.open(
            account.id, account.credential_version, now=now, ttl=self.session_ttl
        )
        return Login(token, session, self._caller(account, session.session_id))

    def authenticate(self, token: str | None) -> Caller:
        """The caller presenting ``token``. Raises ``AuthenticationError`` (``auth.required``,
        ``auth.invalid_token``), or ``CommandError`` ``account.locked`` after ending every
        session of a locked account."""
        now = self._now()
        session = self._sessions.find(_required(token), now=now)
        if session is None:
            raise _invalid_token()
        account = self._ledger.find(session.account_id, Account)
        if account is None:
            raise _invalid_token()
        if account.locked or account.compromised:
            # A lock or a breach report (п. 4.3–4.4) ends the account's sessions, wherever it was
            # made.
            self._sessions.end_all(account.id, "account locked", now=now)
            raise refuse("account.locked" if account.locked else "account.compromised")
        if session.credential_version != account.credential_version:
            self._sessions.end_all(
                account.id,
                "credentials issued again",
                now=now,
                below_version=account.credential_version,
            )
            raise _invalid_token()
        return self._caller(account, session.session_id)

    async def authenticate_async(self, token: str | None, database: AsyncDatabase) -> Caller | None:
        """``authenticate`` on the event loop, for the common case: a live session of an account
        in memory, active, of the session's credential version. None when ``authenticate`` must
        decide in a thread: the account is not in memory, or the session is to end."""
        # The session's query goes in the cache's round trip.
        (rows,) = await self._ledger.refresh_cached_reads(
            database, live_session_query(_required(token), self._now())
        )
        session = session_from_row(rows[0] if rows else None)
        if session is None:
            raise _invalid_token()
        try:
            with self._ledger.memory_only():
                account = self._ledger.find(session.account_id, Account)
        except NotInMemory:
            return None
        if (
            account is None
            or account.locked
            or account.compromised
            or session.credential_version != account.credential_version
        ):
            return None
        return self._caller(account, session.session_id)

    def logout(self, caller: Caller) -> None:
        self._sessions.end(caller.session_id, "logout", now=self._now())

    def end_sessions(self, account_id: UUID, reason: str) -> int:
        return self._sessions.end_all(account_id, reason, now=self._now())

    def session_account(self, session_id: UUID) -> UUID | None:
        """The account of a session this service opened (live or ended), or None."""
        return self._sessions.account_of(session_id)

    # Credentials.

    def change_password(self, caller: Caller, current: str, new: str) -> Login:
        """The caller's own new password: a new credential version; every session of the old
        one ends, and a session of the new one is opened. Raises ``AuthenticationError``
        (``auth.wrong_password``, ``auth.weak_password``)."""
        stored = self._credentials.get(caller.actor.account_id, caller.actor.credential_version)
        if stored is None or not verify_password(current, stored):
            raise AuthenticationError("auth.wrong_password")
        if not acceptable_password(new, caller.login):
            raise AuthenticationError("auth.weak_password")
        # Only the service and support may issue credentials (commands.accounts). The service does
        # it on the caller's verified request; the event carries the caller's session (I8).
        on_behalf = Actor(
            account_id=NIL, grants=frozenset({Grant(Role.SYSTEM)}), session_id=caller.session_id
        )
        self._issue(on_behalf, caller.actor.account_id, new)
        account = self._ledger.find(caller.actor.account_id, Account)
        assert account is not None
        token, session = self._sessions.open(
            account.id, account.credential_version, now=self._now(), ttl=self.session_ttl
        )
        return Login(token, session, self._caller(account, session.session_id))

    def reset_password(self, by: Actor, account_id: UUID) -> IssuedPassword:
        """An administrator's reset: a one-time password under a new credential version; every
        session of the account ends. ``IssueCredentials`` decides who may (support, system
        administrator) and raises ``CommandError``."""
        password = generate_password()
        version = self._issue(by, account_id, password)
        return IssuedPassword(account_id, version, password)

    def provision(self, account_id: UUID, password: str) -> int:
        """Set an account's password as the service (bootstrap, demo); returns the version."""
        system = Actor(account_id=NIL, grants=frozenset({Grant(Role.SYSTEM)}))
        return self._issue(system, account_id, password)

    def _issue(self, by: Actor, account_id: UUID, password: str) -> int:
        account = self._ledger.find(account_id, Account)
        if account is None:
            raise refuse("account.not_found")
        encoded = hash_password(password, self._hashing)
        now = self._now()
        # The hash is stored first, under the version the command is about to issue, so that no
        # moment exists at which the ledger names a version without its password. A concurrent
        # issue that got there first is corrected below.
        expected = account.credential_version + 1
        self._credentials.put(account_id, expected, encoded, now=now)
        try:
            version = c.handle(c.IssueCredentials(actor=by, account_id=account_id), self._ledger)
        except c.CommandError:
            self._credentials.discard(account_id, expected)
            raise
        if version != expected:
            self._credentials.put(account_id, version, encoded, now=now)
        self._credentials.discard_older(account_id, version)
        self._sessions.end_all(
            account_id, "credentials issued again", now=now, below_version=version
        )
        return version

    def _caller(self, account: Account, session_id: UUID) -> Caller:
        actor = Actor(
            account_id=account.id,
            grants=frozenset(account.grants),
            credential_version=account.credential_version,
            session_id=session_id,
        )
        return Caller(actor=actor, person_id=account.person_id, login=account.login)


def _required(token: str | None) -> str:
    if not token:
        raise AuthenticationError("auth.required")
    return token


def _invalid_token() -> AuthenticationError:
    return AuthenticationError("auth.invalid_token")
