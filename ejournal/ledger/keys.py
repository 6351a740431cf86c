"""The deployment's checkpoint-signing keys, sealed at rest (I5).

Private keys are Ed25519 keys stored in the database only sealed: AES-256-GCM under a key derived
with Argon2id from a secret that never enters the database (``EJOURNAL_KEY_PASSPHRASE``, or the
contents of the file named by ``EJOURNAL_KEY_FILE``). Public keys are stored as C2SP verifier keys.

Rotation: a new key is added while the old one stays active, so checkpoints carry both signatures
for a while; then the old key is retired (it stops signing, and its verifier key stays known so that
old checkpoints still verify).

The keys table is not part of the ledger: an auditor must not trust verifier keys read from the
database they audit. ``ejournal keys export`` writes them to a file that the district and the
auditors keep; ``ejournal verify --keys FILE`` trusts only that file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ejournal.integrity.leaf import micros
from ejournal.integrity.note import Ed25519Signer, Verifier, is_valid_key_name
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError

PASSPHRASE_VARIABLE = "EJOURNAL_KEY_PASSPHRASE"
KEY_FILE_VARIABLE = "EJOURNAL_KEY_FILE"

_SALT_SIZE = 16
_NONCE_SIZE = 12
# A key-encryption key is derived once per process, so it can afford more than a login hash:
# RFC 9106's second recommended setting, t=3, p=4, m=64 MiB.
_ARGON2_ITERATIONS = 3
_ARGON2_LANES = 4
_ARGON2_MEMORY_KIB = 64 * 1024

_CREATE = """
CREATE TABLE IF NOT EXISTS signing_keys (
    vkey TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sealed_private {bytes} NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
)"""


class KeyStoreError(LedgerError):
    """No secret to unseal keys with, a wrong secret, or no usable key."""


@dataclass(frozen=True, slots=True)
class StoredKey:
    vkey: str
    name: str
    created_at: int
    retired_at: int | None

    @property
    def active(self) -> bool:
        return self.retired_at is None


def secret_from_environment(environ: Mapping[str, str] = os.environ) -> bytes:
    """The key-sealing secret: ``EJOURNAL_KEY_PASSPHRASE``, or the bytes of ``EJOURNAL_KEY_FILE``.

    Raises ``KeyStoreError`` if neither is set or the file cannot be read.
    """
    if passphrase := environ.get(PASSPHRASE_VARIABLE):
        return passphrase.encode("utf-8")
    if path := environ.get(KEY_FILE_VARIABLE):
        try:
            return Path(path).read_bytes().strip()
        except OSError as e:
            raise KeyStoreError(f"cannot read {KEY_FILE_VARIABLE} {path}: {e}") from e
    raise KeyStoreError(
        f"set {PASSPHRASE_VARIABLE} or {KEY_FILE_VARIABLE} to unseal the signing keys"
    )


def _kek(secret: bytes, salt: bytes) -> AESGCM:
    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=_ARGON2_ITERATIONS,
        lanes=_ARGON2_LANES,
        memory_cost=_ARGON2_MEMORY_KIB,
    )
    return AESGCM(kdf.derive(secret))


def seal(private_key: Ed25519PrivateKey, secret: bytes, *, associated: bytes) -> bytes:
    """salt ‖ nonce ‖ AES-GCM(raw private key), bound to ``associated`` (the verifier key)."""
    salt, nonce = secrets.token_bytes(_SALT_SIZE), secrets.token_bytes(_NONCE_SIZE)
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return salt + nonce + _kek(secret, salt).encrypt(nonce, raw, associated)


def unseal(sealed: bytes, secret: bytes, *, associated: bytes) -> Ed25519PrivateKey:
    """The inverse of ``seal``. Raises ``KeyStoreError`` on a wrong secret or altered bytes."""
    salt, nonce = sealed[:_SALT_SIZE], sealed[_SALT_SIZE : _SALT_SIZE + _NONCE_SIZE]
    try:
        raw = _kek(secret, salt).decrypt(nonce, sealed[_SALT_SIZE + _NONCE_SIZE :], associated)
    except InvalidTag as e:
        raise KeyStoreError("cannot unseal signing key: wrong secret or altered key") from e
    return Ed25519PrivateKey.from_private_bytes(raw)


class KeyStore:
    """Signing keys of one deployment, in its database, sealed."""

    def __init__(self, database: Database, *, clock: Clock = system_clock) -> None:
        self._database = database
        self._clock = clock
        self._signers: dict[str, Ed25519Signer] = {}
        with database.transaction(write=True) as cursor:
            cursor.execute(
                _CREATE.format(bytes="BLOB" if database.dialect == "sqlite" else "bytea")
            )

    def all_keys(self) -> list[StoredKey]:
        """Every key, active and retired, oldest first."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT vkey, name, created_at, retired_at FROM signing_keys "
                "ORDER BY created_at, vkey"
            )
            return [StoredKey(*row) for row in cursor.fetchall()]

    def create(self, name: str, secret: bytes) -> Verifier:
        """Generate a new active signing key named ``name``; returns its verifier.

        Raises ``KeyStoreError`` for a name that a signed note cannot carry.
        """
        if not is_valid_key_name(name):
            raise KeyStoreError(f"invalid key name {name!r}: no spaces, '+' or control characters")
        private_key = Ed25519PrivateKey.generate()
        signer = Ed25519Signer(name, private_key)
        sealed = seal(private_key, secret, associated=signer.vkey.encode())
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO signing_keys (vkey, name, sealed_private, created_at) "
                "VALUES (?, ?, ?, ?)",
                (signer.vkey, name, sealed, micros(self._clock())),
            )
        self._signers[signer.vkey] = signer
        return signer.verifier()

    def retire(self, vkey: str) -> None:
        """Stop signing with the key ``vkey`` (it stays a known verifier). Raises ``KeyStoreError``
        if it is unknown or the last active key."""
        active = [key.vkey for key in self.all_keys() if key.active]
        if vkey not in active:
            raise KeyStoreError(f"no active key {vkey}")
        if len(active) == 1:
            raise KeyStoreError("cannot retire the last active key: create its successor first")
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE signing_keys SET retired_at = ? WHERE vkey = ?",
                (micros(self._clock()), vkey),
            )
        self._signers.pop(vkey, None)

    def verifiers(self) -> list[Verifier]:
        """Verifiers of every key ever used (retired ones verify old checkpoints)."""
        return [Verifier.from_vkey(key.vkey) for key in self.all_keys()]

    def signers(self, secret: bytes) -> list[Ed25519Signer]:
        """The active keys, unsealed with ``secret``. Raises ``KeyStoreError`` if there are none
        (run ``ejournal keys init``) or the secret is wrong."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT vkey, name, sealed_private FROM signing_keys WHERE retired_at IS NULL "
                "ORDER BY created_at, vkey"
            )
            rows = cursor.fetchall()
        if not rows:
            raise KeyStoreError("no signing key: run `ejournal keys init`")
        for vkey, name, sealed in rows:
            if vkey not in self._signers:
                private_key = unseal(bytes(sealed), secret, associated=vkey.encode())
                self._signers[vkey] = Ed25519Signer(name, private_key)
        return [self._signers[vkey] for vkey, _, _ in rows]
