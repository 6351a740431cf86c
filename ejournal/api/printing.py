"""What printouts on request need of the server (п. 1.6, 2.9, 3.1): the latest signed checkpoint
of a year's log, the journal's seal (the deployment's signing keys, unsealed with
``EJOURNAL_KEY_PASSPHRASE`` or ``EJOURNAL_KEY_FILE`` when first asked for), and the full names
printouts show (``identity.names``).

A request signs no checkpoint: one process of a deployment signs them (the server's schedule, or
the supervisor of its workers), and two signing at once could store checkpoints whose consistency
proofs do not follow one another. A printout rests on the latest one, at most
``EJOURNAL_CHECKPOINT_SECONDS`` and a poll behind the journal, and says so in its certification
block.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from uuid import UUID

from ejournal.api.errors import ApiError
from ejournal.documents.certify import ServiceSeal
from ejournal.documents.people import Names as PrintedNames
from ejournal.identity.names import Names
from ejournal.identity.vault import Vault
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore, secret_from_environment


class Printing:
    """The seal and the checkpoints of one deployment's printouts."""

    def __init__(
        self,
        database: Database,
        *,
        origin: str,
        environ: Mapping[str, str],
        keys: Database | None = None,
    ) -> None:
        """``keys``: the database of the signing keys, if not ``database`` (a region's
        directory, ``ledger.placement``)."""
        self.origin = origin
        self._keys = KeyStore(keys or database)
        try:
            self._secret: bytes | None = secret_from_environment(environ)
        except LedgerError:
            self._secret = None
        self._checkpoints = Checkpointer(database, origin=origin, signers=[], verifiers=[])
        self._lock = threading.Lock()

    def seal(self) -> ServiceSeal:
        """The deployment's active keys as the journal's seal. Raises ``ApiError``
        (``printout.unavailable``) without a key or its secret."""
        if self._secret is None:
            raise ApiError("printout.unavailable", detail="не задан ключ подписи сервера")
        with self._lock:  # the first call unseals (Argon2id): once, not once per thread
            try:
                signers = self._keys.signers(self._secret)
            except LedgerError as e:
                raise ApiError("printout.unavailable", detail=str(e)) from e
        return ServiceSeal(signers=signers)

    def checkpoint(self, log_id: str) -> StoredCheckpoint:
        """The latest signed checkpoint of ``log_id``. Raises ``ApiError``
        (``printout.not_signed_yet``) if the log has none yet."""
        latest = self._checkpoints.latest(log_id)
        if latest is None:
            raise ApiError("printout.not_signed_yet", headers={"Retry-After": "10"})
        return latest


def printed_names(vault: Vault | None, shows: bool) -> PrintedNames | None:
    """The full names a printout shows, as entered in the vault; None (short IDs) without a
    vault or for a reader who sees no names."""
    if vault is None or not shows:
        return None
    names = Names(vault)

    def full_name(person: UUID) -> str | None:
        return names.full_name(person)

    return full_name
