"""``Mailer``: the mail service of one deployment, its parts wired once.

It has no behaviour of its own; callers use its parts. It exists because the parts share state
that must agree: one address book under one digest key (so the outbox's per-address key holds),
one token store (the tokens ``messages`` issues are the ones ``subscriptions`` redeems), one view
of the read models and the ledger's clock. The server (``api.bootstrap``), ``ejournal digest``
and the tests each build it the same way, and the server's services hold it as one optional
piece: no ``Mailer``, no e-mail.

In a region (``ledger.placement``) each server of schools has a ``Mailer`` of its own over its
ledger: its subscriptions' index, outbox, attempts and link tokens are in that server's database,
beside the schools they serve, and its digests read that server's read models. What is personal
stays in the directory: the addresses in its vault (``vault``), the reads of children's data in
its access log (``access_log``), shared by every server's mailer as by every server's requests.
"""

from __future__ import annotations

from ejournal.identity.access_log import AccessLog
from ejournal.identity.vault import Vault
from ejournal.ledger.application import Ledger
from ejournal.mail.addresses import AddressBook
from ejournal.mail.delivery import Delivery
from ejournal.mail.messages import MessageWriter
from ejournal.mail.outbox import Outbox
from ejournal.mail.planning import DigestPlanner
from ejournal.mail.settings import MailSettings
from ejournal.mail.smtp import SmtpTransport
from ejournal.mail.subscriptions import Subscriptions
from ejournal.mail.tokens import LinkTokens
from ejournal.projections.queries import Queries


class Mailer:
    """Parents' e-mail (п. 1.6): ``subscriptions``, ``planner``, ``delivery`` and ``outbox``.

    Every part is thread-safe. Its tables must exist in the ledger's database
    (``create_mail_tables``), the vault's and the access log's in theirs
    (``create_identity_tables``): ``bootstrap`` creates them at start-up. ``access_log`` is where
    the messages log their reads of children's data (п. 1.7): the deployment's, in the directory.
    """

    def __init__(
        self,
        ledger: Ledger,
        settings: MailSettings,
        *,
        vault: Vault,
        address_key: bytes,
        access_log: AccessLog,
        transport: type[SmtpTransport] = SmtpTransport,
    ) -> None:
        book = AddressBook(vault, address_key)
        queries = Queries(ledger.database, clock=ledger.clock)
        tokens = LinkTokens(ledger.database, settings, ledger.clock)
        writer = MessageWriter(
            ledger,
            settings,
            book=book,
            queries=queries,
            tokens=tokens,
            access_log=access_log,
        )
        self.settings = settings
        self.outbox = Outbox(ledger.database, book, ledger.clock)
        """The messages waiting or done: the class teacher's bounces, a week's counts."""
        self.subscriptions = Subscriptions(
            ledger, book=book, tokens=tokens, outbox=self.outbox, queries=queries
        )
        """Subscribe, confirm, unsubscribe, a parent's list."""
        self.planner = DigestPlanner(
            ledger, settings, book=book, outbox=self.outbox, queries=queries
        )
        """The due week, and a week's digests into the outbox."""
        self.delivery = Delivery(ledger, settings, book=book, writer=writer, transport=transport)
        """What is due in the outbox, sent."""
