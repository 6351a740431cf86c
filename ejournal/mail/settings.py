"""Mail settings, read once from the environment by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

Security = Literal["none", "starttls", "tls"]
_DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


class MailSettingsError(ValueError):
    """A mail setting in the environment is malformed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MailSettings:
    smtp_host: str
    smtp_port: int = 587
    security: Security = "starttls"
    """``starttls`` (submission, port 587), ``tls`` (implicit TLS, port 465) or ``none``."""
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    """Trust this CA bundle for the server's certificate instead of the system's."""
    timeout_seconds: float = 30.0
    sender: str = "ejournal@localhost"
    sender_name: str = "Электронный дневник"
    public_url: str = "http://127.0.0.1:8000"
    """Where parents' links point: the API as the internet sees it."""
    digest_weekday: int = 7
    """ISO weekday (1 = Monday … 7 = Sunday) on which last week's digest is sent."""
    digest_time: time = time(18, 0)
    time_zone: str = "Europe/Moscow"
    poll_seconds: float = 60.0
    """How often the server's schedule looks for due mail (retries, confirmations, the digest)."""
    retry_seconds: float = 60.0
    """The first retry's delay; each further one doubles it, up to ``retry_max_seconds``."""
    retry_max_seconds: float = 3600.0
    max_attempts: int = 8
    lease_seconds: float = 600.0
    """How long a claimed message is another sender's: after that, a crashed sender's claim is
    taken over (see ``delivery``)."""
    confirm_hours: int = 72
    """How long a confirmation link or code is valid."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> MailSettings | None:
        """The settings, or None when ``EJOURNAL_SMTP_HOST`` is not set (mail is then off).

        Raises ``MailSettingsError`` for a malformed value.
        """
        host = environ.get("EJOURNAL_SMTP_HOST")
        if not host:
            return None
        security = environ.get("EJOURNAL_SMTP_SECURITY", "starttls").lower()
        if security not in _DEFAULT_PORTS:
            raise MailSettingsError(
                f"EJOURNAL_SMTP_SECURITY must be none, starttls or tls: {security}"
            )
        password = environ.get("EJOURNAL_SMTP_PASSWORD")
        if password is None and (path := environ.get("EJOURNAL_SMTP_PASSWORD_FILE")):
            try:
                password = Path(path).read_text(encoding="utf-8").strip()
            except OSError as e:
                raise MailSettingsError(f"cannot read EJOURNAL_SMTP_PASSWORD_FILE: {e}") from e
        username = environ.get("EJOURNAL_SMTP_USER") or None
        # smtplib encodes AUTH PLAIN and LOGIN in ASCII: anything else would fail at every
        # delivery, long after start-up, with an error that is no SMTP reply.
        for variable, value in (("EJOURNAL_SMTP_USER", username), ("password", password)):
            if value is not None and not value.isascii():
                raise MailSettingsError(f"the SMTP {variable} must be ASCII (smtplib sends it so)")
        try:
            weekday = int(environ.get("EJOURNAL_DIGEST_WEEKDAY", "7"))
            at = time.fromisoformat(environ.get("EJOURNAL_DIGEST_TIME", "18:00"))
            zone = environ.get("EJOURNAL_DIGEST_TIME_ZONE", "Europe/Moscow")
            ZoneInfo(zone)
            settings = cls(
                smtp_host=host,
                smtp_port=int(environ.get("EJOURNAL_SMTP_PORT", _DEFAULT_PORTS[security])),
                security=security,  # type: ignore[arg-type]
                username=username,
                password=password or None,
                ca_file=environ.get("EJOURNAL_SMTP_CA_FILE") or None,
                timeout_seconds=float(environ.get("EJOURNAL_SMTP_TIMEOUT", "30")),
                sender=environ.get("EJOURNAL_MAIL_FROM", "ejournal@localhost"),
                sender_name=environ.get("EJOURNAL_MAIL_FROM_NAME", "Электронный дневник"),
                public_url=environ.get("EJOURNAL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
                digest_weekday=weekday,
                digest_time=at,
                time_zone=zone,
                poll_seconds=float(environ.get("EJOURNAL_MAIL_POLL_SECONDS", "60")),
                retry_seconds=float(environ.get("EJOURNAL_MAIL_RETRY_SECONDS", "60")),
                max_attempts=int(environ.get("EJOURNAL_MAIL_MAX_ATTEMPTS", "8")),
                lease_seconds=float(environ.get("EJOURNAL_MAIL_LEASE_SECONDS", "600")),
            )
        except (ValueError, KeyError) as e:
            raise MailSettingsError(f"malformed mail setting: {e}") from e
        if not 1 <= weekday <= 7:
            raise MailSettingsError("EJOURNAL_DIGEST_WEEKDAY must be 1 (Monday) … 7 (Sunday)")
        return settings
