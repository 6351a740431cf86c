"""Authentication (п. 4.1–4.2): login, the caller of each request, logout, new credentials.

The ledger's ``Account`` says who may act: its grants, whether it is locked, and its credential
version. This module keeps what must never enter the ledger (password hashes, session tokens,
failed attempts) and binds each session to the account and credential version it was opened for.
Issuing credentials again goes through the ``IssueCredentials`` command, so the new version is a
ledger event; every session of an older version ends with it.

An administrator's reset hands its author a one-time password (``reset_password``): it opens one
session, which may only change the password (``Caller.password_change_only``; the HTTP layer
refuses everything else with ``auth.password_change_required``). Logins are throttled by login
and by source, without a lock a stranger could set off (``credentials.LoginThrottle``).

One refusal (``auth.invalid_token``) covers a token that is unknown, forged, expired, logged out or
of an old credential version: like Fernet, it tells an attacker nothing about why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ejournal import commands as c
from ejournal.commands.errors import refuse
from ejournal.identity.credentials import (
    CredentialStore,
    LoginThrottle,
    StoredCredential,
    ThrottlePolicy,
    Wait,
)
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
PASSWORD_CHANGE_TTL = timedelta(minutes=15)
"""How long a session opened with a one-time password has to change it."""
UNKNOWN_SOURCE = "unknown"
"""The source of a login whose client address is not known."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of a request: the actor the ledger attributes, and its person."""

    actor: Actor
    person_id: UUID
    login: str
    password_change_only: bool = False
    """The session was opened with a one-time password: it may only change it (and log out)."""

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

    def login(self, login: str, password: str, *, source: str = UNKNOWN_SOURCE) -> Login:
        """Open a session for ``login`` asked from ``source`` (the client address). Raises
        ``AuthenticationError``: ``auth.throttled`` (with ``retry_after``: the password was not
        checked), ``auth.invalid_credentials`` (also for a one-time password already used);
        ``CommandError`` ``account.locked`` or ``account.compromised`` for a correct password of
        a stopped account (п. 4.4). A one-time password opens a ``password_change_only``
        session."""
        now = self._now()
        key = normalise_login(login)
        turn = self._throttle.take_turn(key, source, now=now)
        if isinstance(turn, Wait):
            raise AuthenticationError("auth.throttled", retry_after=turn.seconds(now))
        account = self._ledger.find(Account.create_id(login=key), Account)
        stored = None
        if account is not None:
            stored = self._credentials.stored(account.id, account.credential_version)
        matches = verify_password(password, self._decoy if stored is None else stored.password_hash)
        if account is None or stored is None or not matches or stored.used:
            raise AuthenticationError("auth.invalid_credentials")
        self._throttle.succeeded(turn, now=now)
        return self._open(account, stored, now)

    def _open(self, account: Account, stored: StoredCredential, now: datetime) -> Login:
        """A session of the account whose right password was given (``stored``'s)."""
        if account.locked:
            raise refuse("account.locked")
        if account.compromised:
            raise refuse("account.compromised")
        ttl = self.session_ttl
        if stored.one_time:
            # Of two logins with the same one-time password, one opens its session.
            if not self._credentials.use_up(account.id, account.credential_version, now=now):
                raise AuthenticationError("auth.invalid_credentials")
            ttl = min(ttl, PASSWORD_CHANGE_TTL)
        token, session = self._sessions.open(
            account.id,
            account.credential_version,
            now=now,
            ttl=ttl,
            password_change_only=stored.one_time,
        )
        return Login(token, session, self._caller(account, session))

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
        return self._caller(account, session)

    async def authenticate_async(self, token: str | None, database: AsyncDatabase) -> Caller | None:
        """``authenticate`` on the event loop, for the common case: a live session of an account
        in memory, active, of the session's credential version. None when ``authenticate`` must
        decide in a thread: the account is not in memory, or the session is to end.

        Whether the session is live is read from the database at every call, never from
        memory: a session ended by any process (logout, a lock, a breach report, an
        invalidation) is refused here at its next request."""
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
        return self._caller(account, session)

    def logout(self, caller: Caller) -> None:
        self._sessions.end(caller.session_id, "logout", now=self._now())

    def end_session(self, session_id: UUID, reason: str) -> bool:
        """End one session (the administration invalidated it, п. 4.4), in the database: every
        server process refuses it from its next request. Whether it was live."""
        return self._sessions.end(session_id, reason, now=self._now())

    def end_sessions(self, account_id: UUID, reason: str) -> int:
        return self._sessions.end_all(account_id, reason, now=self._now())

    def session_account(self, session_id: UUID) -> UUID | None:
        """The account of a session this service opened (live or ended), or None."""
        return self._sessions.account_of(session_id)

    # Credentials.

    def change_password(self, caller: Caller, current: str, new: str) -> Login:
        """The caller's own new password: a new credential version; every session of the old
        one ends, and a session of the new one is opened (a session with every right of the
        account, also when the caller's could only change the password). Raises
        ``AuthenticationError`` (``auth.wrong_password``, ``auth.weak_password``,
        ``auth.same_password``: a one-time password is known to whoever reset it)."""
        stored = self._credentials.get(caller.actor.account_id, caller.actor.credential_version)
        if stored is None or not verify_password(current, stored):
            raise AuthenticationError("auth.wrong_password")
        if not acceptable_password(new, caller.login):
            raise AuthenticationError("auth.weak_password")
        if new == current:
            raise AuthenticationError("auth.same_password")
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
        return Login(token, session, self._caller(account, session))

    def reset_password(self, by: Actor, account_id: UUID) -> IssuedPassword:
        """An administrator's reset: a one-time password under a new credential version, handed
        to ``by``; every session of the account ends. ``IssueCredentials`` decides who may (a
        system administrator; support only for an account without journal or personal-data
        access) and raises ``CommandError``."""
        password = generate_password()
        version = self._issue(by, account_id, password, reset=True)
        return IssuedPassword(account_id, version, password)

    def provision(self, account_id: UUID, password: str) -> int:
        """Set an account's password as the service (bootstrap, demo); returns the version."""
        system = Actor(account_id=NIL, grants=frozenset({Grant(Role.SYSTEM)}))
        return self._issue(system, account_id, password)

    def _issue(self, by: Actor, account_id: UUID, password: str, *, reset: bool = False) -> int:
        account = self._ledger.find(account_id, Account)
        if account is None:
            raise refuse("account.not_found")
        encoded = hash_password(password, self._hashing)
        now = self._now()
        # The hash is stored first, under the version the command is about to issue, so that no
        # moment exists at which the ledger names a version without its password. A concurrent
        # issue that got there first is corrected below.
        expected = account.credential_version + 1
        self._credentials.put(account_id, expected, encoded, now=now, one_time=reset)
        command = c.IssueCredentials(actor=by, account_id=account_id, reset=reset)
        try:
            version = c.handle(command, self._ledger)
        except c.CommandError:
            self._credentials.discard(account_id, expected)
            raise
        if version != expected:
            self._credentials.put(account_id, version, encoded, now=now, one_time=reset)
        self._credentials.discard_older(account_id, version)
        self._sessions.end_all(
            account_id, "credentials issued again", now=now, below_version=version
        )
        return version

    def _caller(self, account: Account, session: Session) -> Caller:
        actor = Actor(
            account_id=account.id,
            grants=frozenset(account.grants),
            credential_version=account.credential_version,
            session_id=session.session_id,
        )
        return Caller(
            actor=actor,
            person_id=account.person_id,
            login=account.login,
            password_change_only=session.password_change_only,
        )


def _required(token: str | None) -> str:
    if not token:
        raise AuthenticationError("auth.required")
    return token


def _invalid_token() -> AuthenticationError:
    return AuthenticationError("auth.invalid_token")
