"""Sending over SMTP (stdlib ``smtplib``): plain, STARTTLS or implicit TLS, with login.

One connection is kept for a run of messages. Each message is a transaction of its own (MAIL,
RCPT, DATA), so a refusal of one address does not stop the others. Replies are classified the way
RFC 5321 defines them: 2xx accepted, 4xx transient (try again later), 5xx permanent. A dropped
connection or a timeout is transient: a server that did not answer 250 to the end of DATA has not
taken responsibility for the message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from types import TracebackType

from ejournal.mail.settings import MailSettings


class DeliveryError(Exception):
    """The message was not accepted."""

    def __init__(self, detail: str, *, reply_code: int | None, permanent: bool, stage: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reply_code = reply_code
        self.permanent = permanent
        self.stage = stage
        """``connect``, ``mail``, ``rcpt`` or ``data``."""

    @property
    def address_refused(self) -> bool:
        """A permanent refusal of the recipient (at RCPT or at the end of DATA): a bounce."""
        return self.permanent and self.stage in {"rcpt", "data"}


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()


class SmtpTransport:
    """A connection to the configured server, opened on first use; a context manager."""

    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self._settings.ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        try:
            smtp: smtplib.SMTP
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.timeout_seconds, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPResponseException as e:
            raise DeliveryError(
                _reply(e.smtp_code, e.smtp_error),
                reply_code=e.smtp_code,
                permanent=False,  # the server's or our configuration's fault, not the address's
                stage="connect",
            ) from e
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(
                f"cannot connect: {e}", reply_code=None, permanent=False, stage="connect"
            ) from e
        return smtp

    def send(
        self,
        message: EmailMessage,
        *,
        sender: str,
        recipient: str,
        before_data: Callable[[], None] = lambda: None,
    ) -> str:
        """Send one message; returns the server's final reply (``250 …``).

        ``before_data`` runs after the server accepted the recipient and before the message is
        transmitted: from then on a crash leaves it unknown whether the server took the message.
        Raises ``DeliveryError``.
        """
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        stage = "mail"
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                self._refused(code, reply, stage)
            stage = "rcpt"
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._refused(code, reply, stage)
            stage = "data"
            before_data()
            code, reply = smtp.data(message.as_bytes())
            if code != 250:
                self._refused(code, reply, stage)
            return _reply(code, reply)
        except smtplib.SMTPResponseException as e:  # DATA refused before the message was sent
            self._reset()
            raise DeliveryError(
                _reply(e.smtp_code, e.smtp_error),
                reply_code=e.smtp_code,
                permanent=500 <= e.smtp_code < 600,
                stage=stage,
            ) from e
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
            raise DeliveryError(
                f"connection lost: {e}", reply_code=None, permanent=False, stage=stage
            ) from e

    def _refused(self, code: int, reply: bytes, stage: str) -> None:
        self._reset()
        raise DeliveryError(
            _reply(code, reply), reply_code=code, permanent=500 <= code < 600, stage=stage
        )

    def _reset(self) -> None:
        """End the refused transaction; a connection that cannot is dropped."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
