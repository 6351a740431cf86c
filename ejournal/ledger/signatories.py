"""Signatories' certifying keys (п. 1.2, 3.1): the head's Ed25519 key, sealed with the head's own
secret.

The deployment's checkpoint keys (``ledger.keys``) are sealed with the deployment's secret; a
signatory's key is sealed with a secret only the signatory gives (a passphrase typed when
certifying), so the service alone cannot certify in the head's name. The public half is registered
in the school year's log (``commands.certification.RegisterSignatoryKey``); this table is not part
of the ledger.
"""

from __future__ import annotations

from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ejournal.integrity.leaf import micros
from ejournal.integrity.note import Ed25519Signer
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.database import Database
from ejournal.ledger.keys import KeyStoreError, seal, unseal

_CREATE = """
CREATE TABLE IF NOT EXISTS signatory_keys (
    vkey TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    sealed_private {bytes} NOT NULL,
    created_at BIGINT NOT NULL
)"""


def signatory_key_name(person_id: UUID) -> str:
    """The key name of a person's certifying key (it appears in every certificate they sign)."""
    return f"signatory-{person_id}"


class SignatoryKeyStore:
    """Certifying keys of people, in the deployment's database, each sealed with its own secret."""

    def __init__(self, database: Database, *, clock: Clock = system_clock) -> None:
        self._database = database
        self._clock = clock
        with database.transaction(write=True) as cursor:
            cursor.execute(
                _CREATE.format(bytes="BLOB" if database.dialect == "sqlite" else "bytea")
            )

    def create(self, person_id: UUID, secret: bytes) -> Ed25519Signer:
        """Generate a new key for ``person_id``, sealed with ``secret``; returns its signer.

        Raises ``KeyStoreError`` for an empty secret.
        """
        if not secret:
            raise KeyStoreError("a signatory's key needs a secret to be sealed with")
        private_key = Ed25519PrivateKey.generate()
        signer = Ed25519Signer(signatory_key_name(person_id), private_key)
        sealed = seal(private_key, secret, associated=signer.vkey.encode())
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO signatory_keys (vkey, person_id, sealed_private, created_at) "
                "VALUES (?, ?, ?, ?)",
                (signer.vkey, str(person_id), sealed, micros(self._clock())),
            )
        return signer

    def signer(self, person_id: UUID, secret: bytes) -> Ed25519Signer:
        """The person's newest key, unsealed with ``secret``.

        Raises ``KeyStoreError`` if the person has no key or the secret is wrong.
        """
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT vkey, sealed_private FROM signatory_keys WHERE person_id = ? "
                "ORDER BY created_at DESC, vkey LIMIT 1",
                (str(person_id),),
            )
            row = cursor.fetchone()
        if row is None:
            raise KeyStoreError(f"no certifying key for person {person_id}")
        vkey, sealed = row
        private_key = unseal(bytes(sealed), secret, associated=vkey.encode())
        return Ed25519Signer(signatory_key_name(person_id), private_key)
