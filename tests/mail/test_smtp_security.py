"""Sending over an encrypted, authenticated connection (п. 1.6): STARTTLS with login, implicit TLS
(SMTPS), the server's certificate checked against a private CA (``EJOURNAL_SMTP_CA_FILE``), and a
refused login handled as the outbox's policy says.

Each test starts its own aiosmtpd server with a certificate issued in the test by a throwaway CA;
the mailer is built from the environment the way ``ejournal digest`` builds it, on the world's
ledger and vault. Nothing of SMTP or TLS is mocked.
"""

from __future__ import annotations

import base64
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ejournal.mail.addresses import digest_key
from ejournal.mail.delivery import DeliveryReport
from ejournal.mail.mailer import Mailer
from ejournal.mail.outbox import CONFIRMATION
from ejournal.mail.settings import MailSettings, MailSettingsError
from tests.api.conftest import World
from tests.mail.conftest import VAULT_KEY, Handler, Smtp, _free_port, mail_environ
from tests.mail.support import link_parent, subscribe

USER = "dnevnik"
PASSWORD = "Pa55-smtp-sekret"
CONFIRMATION_SUBJECT = "Подтвердите подписку на электронный дневник"


# --- a private CA and the server's certificate ---------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    """The CA's certificate: what ``EJOURNAL_SMTP_CA_FILE`` names."""
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A self-signed CA and a server certificate it issued for 127.0.0.1 and localhost."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("ejournal test CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = Certificates(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


def _server_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert_file, certificates.key_file)
    return context


# --- servers -----------------------------------------------------------------------------------


@dataclass
class SecureHandler(Handler):
    """The shared handler, noting how each accepted message arrived."""

    arrivals: list[tuple[bool, bytes | None]] = field(default_factory=list)
    """(over TLS, the login it was sent under) per accepted message."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            over_tls = server.transport.get_extra_info("ssl_object") is not None
            self.arrivals.append((over_tls, session.login_data))
        return reply


@dataclass
class Authenticator:
    """Accepts one user and password; notes every attempt (mechanism, login, accepted)."""

    attempts: list[tuple[str, bytes, bool]] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        accepted = auth_data == (USER.encode(), PASSWORD.encode())
        self.attempts.append((mechanism, auth_data.login, accepted))
        # handled=False: aiosmtpd itself answers a refusal (535), as a real server would.
        return AuthResult(success=accepted, handled=False, auth_data=auth_data)


@dataclass
class Server:
    handler: SecureHandler
    authenticator: Authenticator
    port: int


@contextmanager
def _serving(**smtp_parameters: Any) -> Iterator[Server]:
    handler, authenticator = SecureHandler(), Authenticator()
    port = _free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        **smtp_parameters,
    )
    controller.start()
    try:
        yield Server(handler, authenticator, port)
    finally:
        controller.stop()


@contextmanager
def _starttls_server(certificates: Certificates, **extra: Any) -> Iterator[Server]:
    """Submission as a real one is set up: STARTTLS before anything, then AUTH, then mail."""
    with _serving(
        tls_context=_server_context(certificates),
        require_starttls=True,
        auth_require_tls=True,
        auth_required=True,
        **extra,
    ) as server:
        yield server


def _mailer(w: World, port: int, **variables: str) -> Mailer:
    """A mailer for the server on ``port``, configured from the environment as in production."""
    settings = MailSettings.from_environment(
        {**mail_environ(port), "EJOURNAL_SMTP_USER": USER, **variables}
    )
    assert settings is not None and w.services.vault is not None
    return Mailer(
        w.services.ledger,
        settings,
        vault=w.services.vault,
        address_key=digest_key(base64.b64decode(VAULT_KEY)),
        access_log=w.services.access_log,
    )


def _subscribe(w: World, student_index: int, address: str) -> UUID:
    """A parent asks for the digest: the confirmation waits in the outbox."""
    student = w.school.students[student_index]
    link_parent(w, student)
    response = subscribe(w, student, address)
    assert response.status_code == 201, response.text
    return student


def _attempts(w: World, student: UUID) -> list[Any]:
    """(status, attempts) of the student's confirmation, then its attempts (outcome, reply code,
    detail)."""
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT id, status, attempts FROM mail_outbox WHERE kind = ? AND student_id = ?",
            (CONFIRMATION, str(student)),
        )
        ((outbox_id, status, attempts),) = cursor.fetchall()
        cursor.execute(
            "SELECT outcome, reply_code, detail FROM mail_attempts WHERE outbox_id = ? ORDER BY id",
            (outbox_id,),
        )
        return [(status, int(attempts)), *cursor.fetchall()]


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_and_login_deliver(
    mail_world: World, smtp: Smtp, certificates: Certificates, mechanism: str
) -> None:
    # п. 1.6: a submission server that demands STARTTLS and then AUTH (PLAIN or LOGIN, the only
    # one offered): the confirmation arrives encrypted, sent under the configured login.
    w = mail_world
    address = f"starttls.{mechanism.lower()}@example.ru"
    _subscribe(w, 0 if mechanism == "PLAIN" else 1, address)
    other = "LOGIN" if mechanism == "PLAIN" else "PLAIN"
    with _starttls_server(certificates, auth_exclude_mechanism=[other]) as server:
        secure = _mailer(
            w,
            server.port,
            EJOURNAL_SMTP_SECURITY="starttls",
            EJOURNAL_SMTP_PASSWORD=PASSWORD,
            EJOURNAL_SMTP_CA_FILE=str(certificates.ca_file),
        )
        assert secure.delivery.deliver_due().sent == 1
    (received,) = server.handler.to(address)
    assert received.message["Subject"] == CONFIRMATION_SUBJECT
    assert server.handler.arrivals == [(True, USER.encode())]
    assert server.authenticator.attempts == [(mechanism, USER.encode(), True)]
    assert smtp.handler.received == []  # nothing went the plain way


# aiosmtpd warns of AUTH without STARTTLS; here the whole connection is TLS (see below).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls_delivers(mail_world: World, certificates: Certificates) -> None:
    # п. 1.6: SMTPS (implicit TLS, port 465 in production): TLS from the first byte, and login.
    w = mail_world
    address = "smtps@example.ru"
    _subscribe(w, 2, address)
    # aiosmtpd counts only STARTTLS as TLS for `auth_require_tls`; this connection is TLS from
    # its first byte (the handler checks), so AUTH is required without that flag.
    with _serving(
        ssl_context=_server_context(certificates), auth_required=True, auth_require_tls=False
    ) as server:
        secure = _mailer(
            w,
            server.port,
            EJOURNAL_SMTP_SECURITY="tls",
            EJOURNAL_SMTP_PASSWORD=PASSWORD,
            EJOURNAL_SMTP_CA_FILE=str(certificates.ca_file),
        )
        assert secure.settings.security == "tls"
        assert secure.delivery.deliver_due().sent == 1
    (received,) = server.handler.to(address)
    assert received.message["Subject"] == CONFIRMATION_SUBJECT
    assert server.handler.arrivals == [(True, USER.encode())]


def test_an_untrusted_certificate_is_refused_and_retried(
    mail_world: World, certificates: Certificates
) -> None:
    # п. 1.6: without EJOURNAL_SMTP_CA_FILE the private CA is not trusted: nothing is sent in
    # clear or to an unverified server; the row waits and goes out once the CA is configured.
    w = mail_world
    address = "ne.doveryaj@example.ru"
    student = _subscribe(w, 3, address)
    with _starttls_server(certificates) as server:
        unverified = _mailer(
            w, server.port, EJOURNAL_SMTP_SECURITY="starttls", EJOURNAL_SMTP_PASSWORD=PASSWORD
        )
        report = unverified.delivery.deliver_due()
        assert (report.sent, report.retried) == (0, 1)
        assert server.handler.received == [] and server.authenticator.attempts == []
        status, (outcome, reply_code, detail) = _attempts(w, student)
        assert status == ("pending", 1)
        assert (outcome, reply_code) == ("retry", None)
        assert detail.startswith("cannot connect:") and "CERTIFICATE_VERIFY_FAILED" in detail
        w.clock.advance(timedelta(seconds=61))
        trusting = _mailer(
            w,
            server.port,
            EJOURNAL_SMTP_SECURITY="starttls",
            EJOURNAL_SMTP_PASSWORD=PASSWORD,
            EJOURNAL_SMTP_CA_FILE=str(certificates.ca_file),
        )
        assert trusting.delivery.deliver_due().sent == 1
    assert len(server.handler.to(address)) == 1


def test_a_wrong_password_is_retried_then_failed_not_bounced(
    mail_world: World, certificates: Certificates
) -> None:
    # п. 1.6: 535 to AUTH is the server's or our configuration's fault, not the address's: the
    # outbox retries it with its delay and, after EJOURNAL_MAIL_MAX_ATTEMPTS, marks it `failed`;
    # it is no bounce (the subscription stays as it was) and nothing is sent meanwhile.
    w = mail_world
    address = "plohoj.parol@example.ru"
    student = _subscribe(w, 4, address)
    with _starttls_server(certificates) as server:
        wrong = _mailer(
            w,
            server.port,
            EJOURNAL_SMTP_SECURITY="starttls",
            EJOURNAL_SMTP_PASSWORD="not-" + PASSWORD,
            EJOURNAL_SMTP_CA_FILE=str(certificates.ca_file),
            EJOURNAL_MAIL_MAX_ATTEMPTS="2",
        )
        first = wrong.delivery.deliver_due()
        assert (first.sent, first.retried, first.failed, first.bounced) == (0, 1, 0, 0)
        assert wrong.delivery.deliver_due().retried == 0  # not before the delay
        w.clock.advance(timedelta(seconds=61))
        second = wrong.delivery.deliver_due()
        assert (second.sent, second.retried, second.failed, second.bounced) == (0, 0, 1, 0)
        w.clock.advance(timedelta(hours=2))
        assert (
            wrong.delivery.deliver_due() == DeliveryReport()
        )  # `failed` is final: no third attempt
    assert server.handler.received == []
    # Each delivery tried the login with every mechanism offered, in smtplib's order.
    assert server.authenticator.attempts == [
        (mechanism, USER.encode(), False) for mechanism in ("PLAIN", "LOGIN", "PLAIN", "LOGIN")
    ]
    status, *attempts = _attempts(w, student)
    assert status == ("failed", 2)
    refusal = "535 5.7.8 Authentication credentials invalid"
    assert attempts == [("retry", 535, refusal), ("failed", 535, refusal)]
    (subscription,) = [
        s
        for s in wrong.subscriptions.subscriptions_of(w.persons["parent"])
        if s.student_id == student
    ]
    assert subscription.state == "pending"  # not bounced: the address was never judged


def test_a_login_smtplib_cannot_send_is_refused_at_start_up(tmp_path: Path) -> None:
    # п. 1.6: smtplib sends AUTH in ASCII; a Cyrillic password would fail every delivery with an
    # encoding error instead of a reply, so the settings refuse it (without echoing it).
    password_file = tmp_path / "smtp-password"
    password_file.write_text("секрет\n", encoding="utf-8")
    environs: list[dict[str, str]] = [
        {**mail_environ(25), "EJOURNAL_SMTP_USER": USER, "EJOURNAL_SMTP_PASSWORD": "секрет"},
        {
            **mail_environ(25),
            "EJOURNAL_SMTP_USER": USER,
            "EJOURNAL_SMTP_PASSWORD_FILE": str(password_file),
        },
    ]
    for environ in environs:
        with pytest.raises(MailSettingsError, match="the SMTP password must be ASCII") as refused:
            MailSettings.from_environment(environ)
        assert "секрет" not in str(refused.value)
    cyrillic_user = {**mail_environ(25), "EJOURNAL_SMTP_USER": "дневник"}
    with pytest.raises(MailSettingsError, match="EJOURNAL_SMTP_USER must be ASCII"):
        MailSettings.from_environment(cyrillic_user)
    ascii_login = {
        **mail_environ(25),
        "EJOURNAL_SMTP_USER": USER,
        "EJOURNAL_SMTP_PASSWORD": PASSWORD,
    }
    settings = MailSettings.from_environment(ascii_login)
    assert settings is not None and (settings.username, settings.password) == (USER, PASSWORD)
