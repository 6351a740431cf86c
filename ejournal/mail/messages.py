"""The e-mails themselves: a claimed outbox row written out as a confirmation or a weekly digest.

A message is written when it is about to be sent, not when it is planned: the digest shows the
week as the read models have it then, and each attempt writes it anew, with new tokens for its
links. The digest's content comes from ``digest``; this module adds the envelope (sender,
recipient, ``Message-ID``), the one-click unsubscribe headers (RFC 8058) and the PDF.

Every read of a child's data a message makes is in the access log (п. 1.7) before the data is
read, as the API's reads are: the diary of the week (``diary``) and the child's name from the
vault (``personal_data``). No person reads them at that moment: the reader is the system
(``reader_account_id`` the system's nil account, ``reader_role`` ``system``), acting for the
subscription, whose ID stands in the ``session_id`` column (for a person, the session the read
was made in). An auditor goes from an entry to the subscription: the parent who asked for the
mail, the address reference and when it was confirmed. Naming the parent as the reader would say
they read the diary then, which nobody knows (they may never open the e-mail); a made-up session
would point nowhere. Each attempt reads anew, and logs anew.
"""

from __future__ import annotations

import secrets
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from ejournal.identity.access_log import Access, AccessLog
from ejournal.identity.authenticator import Caller
from ejournal.ledger.actor import NIL, SYSTEM_ACTOR, Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import School, SchoolClass
from ejournal.mail.addresses import AddressBook
from ejournal.mail.digest import Heading, build_digest, digest_pdf, parse_week, week_days
from ejournal.mail.outbox import CONFIRMATION, OutboxRow
from ejournal.mail.settings import MailSettings
from ejournal.mail.tokens import CONFIRM, UNSUBSCRIBE, LinkTokens
from ejournal.projections.queries import Queries


class MessageWriter:
    """Writes the message of an outbox row; thread-safe (it keeps no state between messages)."""

    def __init__(
        self,
        ledger: Ledger,
        settings: MailSettings,
        *,
        book: AddressBook,
        queries: Queries,
        tokens: LinkTokens,
        access_log: AccessLog,
    ) -> None:
        self._ledger = ledger
        self._settings = settings
        self._book = book
        self._queries = queries
        self._tokens = tokens
        self._access_log = access_log

    def write(self, row: OutboxRow, address: str) -> EmailMessage | None:
        """The message of ``row`` to ``address``, or None for a digest of a week with nothing
        recorded. Issues the tokens of its links and logs its reads of the child's data. Raises
        what the vault (``VaultError``) or the database raise (delivery retries the row then),
        and anything else for a message that cannot be written (delivery fails the row)."""
        if row.kind == CONFIRMATION:
            return self._confirmation(row, address)
        return self._digest(row, address)

    def _envelope(self, row: OutboxRow, address: str, subject: str) -> EmailMessage:
        message = EmailMessage(policy=SMTP)
        message["Subject"] = subject
        local, _, domain = self._settings.sender.partition("@")
        message["From"] = Address(self._settings.sender_name, local, domain or "localhost")
        message["To"] = address
        message["Date"] = format_datetime(self._ledger.clock())
        message["Message-ID"] = f"<{row.kind}.{row.id}.{row.subscription_id.hex}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        return message

    def _log_reads(self, row: OutboxRow, *what: Access) -> None:
        """Log the reads of the child's data the message is about to make (п. 1.7): by the
        system, for the subscription (see the module's docstring)."""
        caller = Caller(
            actor=Actor(account_id=NIL, grants=SYSTEM_ACTOR.grants, session_id=row.subscription_id),
            person_id=NIL,
            login=Role.SYSTEM.value,
        )
        now, student = self._ledger.clock(), [row.student_id]
        for access in what:
            self._access_log.record(
                caller, Role.SYSTEM.value, access, student, school_id=row.school_id, now=now
            )

    def _heading(self, row: OutboxRow) -> Heading:
        school = self._ledger.find(row.school_id, School)
        school_class = (
            self._ledger.find(row.class_id, SchoolClass) if row.class_id is not None else None
        )
        return Heading(
            student=self._book.name(row.student_id) or "ученик",
            class_name=school_class.name if school_class is not None else "",
            school=school.name if school is not None else "",
        )

    def _confirmation(self, row: OutboxRow, address: str) -> EmailMessage:
        self._log_reads(row, Access.PERSONAL_DATA)  # the child's name
        code = f"{secrets.randbelow(10**8):08d}"
        token = self._tokens.issue(CONFIRM, row.subscription_id, row.address_ref, code=code)
        heading = self._heading(row)
        url = self._tokens.link("confirm", token)
        message = self._envelope(row, address, "Подтвердите подписку на электронный дневник")
        text = (
            "Здравствуйте!\n\n"
            f"Вы запросили еженедельную рассылку электронного дневника: {heading.student}, "
            f"{heading.class_name}, {heading.school}.\n\n"
            f"Чтобы подтвердить подписку, откройте ссылку:\n{url}\n\n"
            f"или введите код {code} в личном кабинете. Ссылка и код действуют "
            f"{self._settings.confirm_hours} ч.\n\n"
            "Если вы не запрашивали подписку, просто не отвечайте на это письмо.\n"
        )
        message.set_content(text)
        return message

    def _digest(self, row: OutboxRow, address: str) -> EmailMessage | None:
        monday, sunday = week_days(parse_week(row.week))
        self._log_reads(row, Access.DIARY, Access.PERSONAL_DATA)  # the week, the child's name
        # The subscription's school year only: a pupil who moved is the other school's there.
        school = (row.school_id, row.year_start)
        diary = self._queries.diary_days(row.student_id, monday, sunday, school=school)
        token = self._tokens.issue(UNSUBSCRIBE, row.subscription_id, row.address_ref)
        unsubscribe = self._tokens.link("unsubscribe", token)
        content = build_digest(diary, self._heading(row), unsubscribe_url=unsubscribe)
        if content.empty:
            return None
        message = self._envelope(row, address, content.subject)
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(content.text)
        message.add_alternative(content.html, subtype="html")
        if row.attach_pdf:
            pdf = digest_pdf(content, now=self._ledger.clock())
            message.add_attachment(
                pdf, maintype="application", subtype="pdf", filename=f"dnevnik-{row.week}.pdf"
            )
        return message
