"""The personal-data vault (п. 1.7, 152-ФЗ; I9): names, birth dates and contacts, per person.

Each person's data is encrypted with AES-256-GCM under a data key of their own; the data key is
stored wrapped (AES-256-GCM) by the key-encryption key, which comes from the environment and never
enters the database. Both encryptions are bound to the person's ID (associated data), so a row
copied onto another person does not decrypt. ``forget`` destroys the person's wrapped key and
ciphertext: the data is then unrecoverable from the database and from every backup of it that
outlives the key-encryption key's rotation, while the ledger, which only ever held the person's ID,
verifies unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ejournal.integrity.leaf import micros
from ejournal.ledger.database import Database

VAULT_KEY_VARIABLE = "EJOURNAL_VAULT_KEY"
VAULT_KEY_FILE_VARIABLE = "EJOURNAL_VAULT_KEY_FILE"
KEY_SIZE = 32
_NONCE_SIZE = 12
FULL_NAMES_BATCH = 500
"""Persons per query of ``Vault.full_names``: well under either database's bound on parameters."""
OPENED_NAMES = 50_000
"""Names a vault keeps decrypted (``Vault.full_names_of``), least recently shown out first."""


class VaultError(Exception):
    """The vault cannot serve: no key-encryption key, a wrong one, or altered rows."""


class PersonForgotten(VaultError):
    """The person's key was destroyed (``forget``)."""


@dataclass(frozen=True, slots=True)
class PersonalData:
    full_name: str
    birth_date: date | None = None
    contacts: Mapping[str, str] = field(default_factory=dict)
    """E-mail, phone … by kind."""

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "full_name": self.full_name,
                "birth_date": self.birth_date.isoformat() if self.birth_date else None,
                "contacts": dict(self.contacts),
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> PersonalData:
        raw: dict[str, Any] = orjson.loads(data)
        birth = raw.get("birth_date")
        return cls(
            full_name=raw["full_name"],
            birth_date=date.fromisoformat(birth) if birth else None,
            contacts=dict(raw.get("contacts") or {}),
        )


@dataclass(frozen=True, slots=True)
class StoredPerson:
    person_id: UUID
    school_id: UUID | None
    """The school that registered the person: whose administration may read and write it."""
    data: PersonalData


def key_from_environment(environ: Mapping[str, str] = os.environ) -> bytes | None:
    """The key-encryption key: base64 of 32 bytes in ``EJOURNAL_VAULT_KEY``, or the file named by
    ``EJOURNAL_VAULT_KEY_FILE`` (32 raw bytes, or their base64). None if neither is set; raises
    ``VaultError`` for a key that is not 32 bytes or a file that cannot be read."""
    if text := environ.get(VAULT_KEY_VARIABLE):
        return _key_bytes(text.encode("ascii", "replace"), VAULT_KEY_VARIABLE)
    if path := environ.get(VAULT_KEY_FILE_VARIABLE):
        try:
            content = Path(path).read_bytes()
        except OSError as e:
            raise VaultError(f"cannot read {VAULT_KEY_FILE_VARIABLE} {path}: {e}") from e
        if len(content) == KEY_SIZE:
            return content
        return _key_bytes(content.strip(), VAULT_KEY_FILE_VARIABLE)
    return None


def _key_bytes(encoded: bytes, source: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as e:
        raise VaultError(f"{source} is not base64") from e
    if len(key) != KEY_SIZE:
        raise VaultError(f"{source} must hold {KEY_SIZE} bytes, not {len(key)}")
    return key


def new_key() -> str:
    """A fresh key-encryption key, base64, for ``EJOURNAL_VAULT_KEY``."""
    return base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode("ascii")


class Vault:
    def __init__(self, database: Database, kek: bytes) -> None:
        if len(kek) != KEY_SIZE:
            raise VaultError(f"the key-encryption key must be {KEY_SIZE} bytes")
        self._database = database
        self._kek = AESGCM(kek)
        # Names which key wrapped a row, so that rows can be re-wrapped after a rotation.
        self.kek_id = hashlib.sha256(b"ejournal vault kek\x00" + kek).hexdigest()[:16]
        # Person → (the ciphertext, its name): a page of 30 pupils is read again and again, and
        # two decryptions a person cost more than the rest of the name's read. Valid only for
        # that very ciphertext, which every read fetches: a new ``put`` (a fresh nonce) or a
        # ``forget`` (no ciphertext) shows at once, in every process.
        self._opened: OrderedDict[UUID, tuple[bytes, str]] = OrderedDict()
        self._opened_lock = threading.Lock()

    def put(
        self, person_id: UUID, data: PersonalData, *, school_id: UUID | None, now: datetime
    ) -> None:
        """Store (or replace) a person's data. Raises ``PersonForgotten``: a forgotten person
        stays forgotten."""
        row = self._row(person_id)
        if row is not None and row[3] is not None:
            raise PersonForgotten(str(person_id))
        data_key = self._unwrap(person_id, row[1]) if row is not None else AESGCM.generate_key(256)
        associated = person_id.bytes
        nonce = secrets.token_bytes(_NONCE_SIZE)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, data.encode(), associated)
        wrap_nonce = secrets.token_bytes(_NONCE_SIZE)
        wrapped = wrap_nonce + self._kek.encrypt(wrap_nonce, data_key, associated)
        keep_school = row[0] if row is not None and school_id is None else _text(school_id)
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO personal_data (person_id, school_id, kek_id, wrapped_key, "
                "ciphertext, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO "
                "UPDATE SET school_id = excluded.school_id, kek_id = excluded.kek_id, "
                "wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext, "
                "updated_at = excluded.updated_at",
                (str(person_id), keep_school, self.kek_id, wrapped, ciphertext, micros(now)),
            )

    def put_many(
        self, people: Mapping[UUID, PersonalData], *, school_id: UUID, now: datetime
    ) -> None:
        """Store the data of people new to the vault, all in one transaction (an import's). Raises
        ``VaultError`` if one of them is already there, and then stores none."""
        rows = []
        for person_id, data in people.items():
            data_key = AESGCM.generate_key(256)
            nonce = secrets.token_bytes(_NONCE_SIZE)
            ciphertext = nonce + AESGCM(data_key).encrypt(nonce, data.encode(), person_id.bytes)
            wrap_nonce = secrets.token_bytes(_NONCE_SIZE)
            wrapped = wrap_nonce + self._kek.encrypt(wrap_nonce, data_key, person_id.bytes)
            rows.append(
                (str(person_id), str(school_id), self.kek_id, wrapped, ciphertext, micros(now))
            )
        if not rows:
            return
        try:
            with self._database.transaction(write=True) as cursor:
                cursor.executemany(
                    "INSERT INTO personal_data (person_id, school_id, kek_id, wrapped_key, "
                    "ciphertext, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except Exception as e:  # the database's integrity error, whichever the backend
            raise VaultError(f"personal data not stored: {e}") from e

    def discard(self, person_ids: Iterable[UUID]) -> None:
        """Remove people's rows outright: only for people nothing else names, whose entry an
        import made before the ledger refused its records (``put_many``)."""
        ids = [str(person_id) for person_id in person_ids]
        with self._opened_lock:
            for person_id in person_ids:
                self._opened.pop(person_id, None)
        for start in range(0, len(ids), FULL_NAMES_BATCH):
            chunk = ids[start : start + FULL_NAMES_BATCH]
            marks = ", ".join("?" * len(chunk))
            with self._database.transaction(write=True) as cursor:
                cursor.execute(f"DELETE FROM personal_data WHERE person_id IN ({marks})", chunk)

    def school_people(self, school_id: UUID) -> list[StoredPerson]:
        """Everyone the school entered, decrypted, forgotten people left out. Raises
        ``VaultError`` for a row this key cannot open."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT person_id, wrapped_key, ciphertext FROM personal_data WHERE school_id = ? "
                "AND forgotten_at IS NULL ORDER BY person_id",
                (str(school_id),),
            )
            rows = cursor.fetchall()
        found = []
        for person, wrapped, ciphertext in rows:
            person_id = UUID(person)
            data_key = self._unwrap(person_id, wrapped)
            blob = bytes(ciphertext)
            try:
                plain = AESGCM(data_key).decrypt(
                    blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], person_id.bytes
                )
            except InvalidTag as e:
                raise VaultError(f"personal data of {person_id} does not decrypt") from e
            found.append(StoredPerson(person_id, school_id, PersonalData.decode(plain)))
        return found

    def get(self, person_id: UUID) -> StoredPerson | None:
        """A person's data, decrypted; None if never stored. Raises ``PersonForgotten``, and
        ``VaultError`` for a row this key cannot open."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT school_id, wrapped_key, ciphertext, forgotten_at FROM personal_data "
                "WHERE person_id = ?",
                (str(person_id),),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        if row[3] is not None:
            raise PersonForgotten(str(person_id))
        data_key = self._unwrap(person_id, row[1])
        ciphertext = bytes(row[2])
        try:
            plain = AESGCM(data_key).decrypt(
                ciphertext[:_NONCE_SIZE], ciphertext[_NONCE_SIZE:], person_id.bytes
            )
        except InvalidTag as e:
            raise VaultError(f"personal data of {person_id} does not decrypt") from e
        school = UUID(row[0]) if row[0] else None
        return StoredPerson(person_id, school, PersonalData.decode(plain))

    def full_names(self, person_ids: Iterable[UUID]) -> dict[UUID, str | None]:
        """The full name of each of ``person_ids`` the vault holds, a query per
        ``FULL_NAMES_BATCH``: None for a forgotten person; a person never stored is left out.
        Raises ``VaultError`` for a row this key cannot open."""
        wanted = list(dict.fromkeys(person_ids))
        found: dict[UUID, str | None] = {}
        for start in range(0, len(wanted), FULL_NAMES_BATCH):
            sql, params = full_names_query(wanted[start : start + FULL_NAMES_BATCH])
            with self._database.transaction(write=False) as cursor:
                cursor.execute(sql, params)
                found.update(self.full_names_of(cursor.fetchall()))
        return found

    def full_names_of(self, rows: Iterable[Sequence[Any]]) -> dict[UUID, str | None]:
        """``full_names`` of the rows of ``full_names_query`` (run elsewhere: on the event loop).
        Raises ``VaultError`` for a row this key cannot open."""
        found: dict[UUID, str | None] = {}
        for person, wrapped, ciphertext in rows:
            person_id = UUID(person)
            if wrapped is None or ciphertext is None:
                found[person_id] = None  # forgotten: the key and the data are gone
                with self._opened_lock:
                    self._opened.pop(person_id, None)
                continue
            blob = bytes(ciphertext)
            with self._opened_lock:
                opened = self._opened.get(person_id)
                if opened is not None and opened[0] == blob:
                    self._opened.move_to_end(person_id)
                    found[person_id] = opened[1]
                    continue
            found[person_id] = name = self._open_name(person_id, wrapped, blob)
            with self._opened_lock:
                self._opened[person_id] = (blob, name)
                if len(self._opened) > OPENED_NAMES:
                    self._opened.popitem(last=False)
        return found

    def _open_name(self, person_id: UUID, wrapped: Any, blob: bytes) -> str:
        data_key = self._unwrap(person_id, wrapped)
        try:
            plain = AESGCM(data_key).decrypt(
                blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], person_id.bytes
            )
        except InvalidTag as e:
            raise VaultError(f"personal data of {person_id} does not decrypt") from e
        # Only the name: decoding the birth date and the contacts would be wasted here.
        return str(orjson.loads(plain)["full_name"])

    def school_of(self, person_id: UUID) -> tuple[bool, UUID | None]:
        """(whether the person is in the vault, forgotten or not; the registering school)."""
        row = self._row(person_id)
        if row is None:
            return False, None
        return True, UUID(row[0]) if row[0] else None

    def forget(self, person_id: UUID, *, now: datetime) -> bool:
        """Destroy the person's data key and ciphertext (crypto-shredding, for disposition).
        Returns False if the person was not in the vault or already forgotten."""
        with self._opened_lock:
            self._opened.pop(person_id, None)
        with self._database.transaction(write=True) as cursor:
            result = cursor.execute(
                "UPDATE personal_data SET wrapped_key = NULL, ciphertext = NULL, forgotten_at = ? "
                "WHERE person_id = ? AND forgotten_at IS NULL",
                (micros(now), str(person_id)),
            )
            return bool(getattr(result, "rowcount", 0))

    def _row(self, person_id: UUID) -> tuple[Any, ...] | None:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT school_id, wrapped_key, ciphertext, forgotten_at FROM personal_data "
                "WHERE person_id = ?",
                (str(person_id),),
            )
            row = cursor.fetchone()
        return None if row is None else tuple(row)

    def _unwrap(self, person_id: UUID, wrapped: Any) -> bytes:
        blob = bytes(wrapped)
        try:
            return self._kek.decrypt(blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], person_id.bytes)
        except InvalidTag as e:
            raise VaultError(
                f"the data key of {person_id} does not unwrap: wrong EJOURNAL_VAULT_KEY?"
            ) from e


def full_names_query(person_ids: Sequence[UUID]) -> tuple[str, list[str]]:
    """The rows ``Vault.full_names_of`` opens: each of ``person_ids`` the vault holds."""
    marks = ", ".join("?" * len(person_ids))
    columns = "person_id, wrapped_key, ciphertext"
    sql = f"SELECT {columns} FROM personal_data WHERE person_id IN ({marks})"
    return sql, [str(person) for person in person_ids]


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)
