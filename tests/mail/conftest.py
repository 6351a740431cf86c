"""A real SMTP server (aiosmtpd) and a served school whose mail goes to it (п. 1.6).

The server runs for the whole session on a free port; its handler is reset before every test and
can refuse (4xx, 5xx) or act (kill a sender) on cue. Nothing of SMTP is mocked: the mailer talks
to it over a socket with ``smtplib``.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from tests.api.conftest import (
    World,
    backend_url,
    copied_world,
    module_backend,
    world_at,
    world_template,
)
from tests.databases import Template, Templates

PUBLIC_URL = "http://testserver"
ROLES = ("head", "maths", "russian", "parent", "other_parent", "student")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    def html(self) -> str:
        body = self.message.get_body(("html",))
        assert body is not None
        return str(body.get_content())

    def links(self, kind: str) -> list[str]:
        """Paths of the message's ``/mail/<kind>/<token>`` links (the test client's URLs)."""
        found = re.findall(re.escape(PUBLIC_URL) + rf"(/mail/{kind}/[A-Za-z0-9_-]+)", self.text())
        return list(dict.fromkeys(found))


@dataclass
class Handler:
    """Accepts mail, or refuses it on cue."""

    received: list[Received] = field(default_factory=list)
    transient: dict[str, int] = field(default_factory=dict)
    """Answer the end of DATA of the next this-many messages to an address with 451."""
    bounce: set[str] = field(default_factory=set)
    """Refuse these recipients for good (550 at RCPT)."""
    on_mail: Callable[[int], None] | None = None
    """Called at each MAIL FROM with the number of messages accepted so far."""
    refusals: int = 0

    def reset(self) -> None:
        self.received.clear()
        self.transient.clear()
        self.bounce.clear()
        self.on_mail = None
        self.refusals = 0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.on_mail is not None:
            self.on_mail(len(self.received))
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.bounce:
            self.refusals += 1
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        (recipient,) = envelope.rcpt_tos
        if self.transient.get(recipient, 0) > 0:
            self.transient[recipient] -= 1
            self.refusals += 1
            return "451 4.3.0 Temporary local problem, try again later"
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


@dataclass
class Smtp:
    handler: Handler
    port: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_smtp() -> Iterator[Smtp]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, for as long as the block runs."""
    handler = Handler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(handler, port)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Smtp]:
    with serving_smtp() as server:
        yield server


@pytest.fixture
def smtp(smtp_server: Smtp) -> Smtp:
    smtp_server.handler.reset()
    return smtp_server


VAULT_KEY = new_key()


def mail_environ(port: int) -> dict[str, str]:
    return {
        VAULT_KEY_VARIABLE: VAULT_KEY,
        "EJOURNAL_SMTP_HOST": "127.0.0.1",
        "EJOURNAL_SMTP_PORT": str(port),
        "EJOURNAL_SMTP_SECURITY": "none",
        "EJOURNAL_MAIL_FROM": "dnevnik@school.example",
        "EJOURNAL_PUBLIC_URL": PUBLIC_URL,
        "EJOURNAL_MAIL_RETRY_SECONDS": "60",
        "EJOURNAL_SMTP_TIMEOUT": "5",
        # The tests move the clock over weeks; sessions outlive it.
        "EJOURNAL_SESSION_TTL_SECONDS": str(365 * 86400),
    }


def mail_template(templates: Templates, port: int) -> Template[tuple[World, None]]:
    """The mail tests' world, as ``build_world`` leaves it with mail to ``port``."""
    return world_template(templates, roles=ROLES, environ=mail_environ(port))


@pytest.fixture(scope="module")
def mail_world(
    module_backend: str,
    smtp_server: Smtp,
    templates: Templates,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    template = mail_template(templates, smtp_server.port)
    with copied_world(template, module_backend, tmp_path_factory.mktemp("mail")) as (built, _):
        yield built


@pytest.fixture
def database_template(
    request: pytest.FixtureRequest, templates: Templates
) -> Template[tuple[World, None]] | None:
    """For a test of a ``fresh_mail_world``, its database is a copy of one where that world was
    built; else it is empty."""
    if "fresh_mail_world" in request.fixturenames:
        smtp_server: Smtp = request.getfixturevalue("smtp_server")
        return mail_template(templates, smtp_server.port)
    return None


@pytest.fixture
def fresh_mail_world(
    database_url: str, database_template: Template[tuple[World, None]] | None
) -> Iterator[World]:
    """A world of the test's own (both backends): for a test that needs the school as built, its
    parent without subscriptions and its clock at the start of the year, whatever ran before."""
    assert database_template is not None
    with world_at(database_template, database_url) as built:
        yield built


__all__ = ["backend_url", "module_backend"]
