"""What every page around its content shows: the caller's name, the menu of their roles, the
CSRF token of their forms."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio.from_thread
from starlette.requests import Request

from ejournal.api.bootstrap import Services
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.identity.vault import VaultError
from ejournal.ledger.actor import ADMINISTRATION, Role
from ejournal.ledger.errors import NotInMemory
from ejournal.web.access import session_csrf


@dataclass(frozen=True, slots=True)
class MenuItem:
    href: str
    label: str


def menu(caller: Caller) -> list[MenuItem]:
    """The sections the caller's roles open, in the order of a school day."""
    roles = {grant.role for grant in caller.actor.grants}
    items = [MenuItem("/", "Главная")]
    if Role.TEACHER in roles:
        items.append(MenuItem("/day", "Мой день"))
    if roles & {Role.PARENT, Role.STUDENT}:
        items.append(MenuItem("/diary", "Дневник"))
    if roles & ADMINISTRATION:
        items.append(MenuItem("/school", "Школа"))
    if Role.AUDITOR in roles:
        items.append(MenuItem("/ledger", "Реестр"))
    return items


def frame(
    request: Request,
    caller: Caller,
    services: Services,
    *,
    memory_only: bool = False,
    **page: Any,
) -> dict[str, Any]:
    """The context of a page of ``caller``'s: the frame's, and ``page``'s own. With
    ``memory_only`` (on the event loop), a name not held in memory raises ``NotInMemory``."""
    name = _own_name(services, caller, memory_only=memory_only)
    return {
        "caller": caller,
        "user_name": name or caller.login,
        "greeting": _addressed(name) or caller.login,
        # A temporary password opens nothing but its change (п. 4.2): no menu until then.
        "menu": [] if caller.password_change_only else menu(caller),
        "current": request.url.path,
        "csrf": session_csrf(request),
        **page,
    }


def _addressed(full_name: str | None) -> str | None:
    """How a school addresses an adult: by first name and patronymic («Патимат Ибрагимовна»)."""
    if not full_name:
        return None
    words = full_name.split()
    return " ".join(words[1:]) if len(words) == 3 else full_name


NAME_SECONDS = 60.0
"""How long a process shows a caller's own name before reading it again from the vault: a page
would otherwise spend a round trip on it, and a renamed person sees the new name a minute later."""
_MAX_NAMES = 10_000
_names: dict[UUID, tuple[float, str | None]] = {}


def _own_name(services: Services, caller: Caller, *, memory_only: bool) -> str | None:
    now = time.monotonic()
    held = _names.get(caller.person_id)
    if held is not None and held[0] > now:
        return held[1]
    if memory_only:
        raise NotInMemory("the caller's name")
    try:
        name = Names(services.vault).full_name(caller.person_id)
    except VaultError:  # no key for the row: the login stands in for the name
        name = None
    if len(_names) >= _MAX_NAMES:
        _names.clear()
    _names[caller.person_id] = (now + NAME_SECONDS, name)
    return name


def settle(services: Services) -> None:
    """Wait until the read models show this request's writes (at most ``WAIT_SECONDS``), so that
    the page drawn next, in this answer or after a redirect, shows them: read your writes
    (docs/adr/0009-read-your-writes.md). For a page route's thread (``PageRoute``)."""
    position = services.ledger.saved_position()
    if position and services.freshness is not None:
        anyio.from_thread.run(services.freshness.wait_for, position)
