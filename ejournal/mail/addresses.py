"""E-mail addresses of subscriptions, kept in the parent's entry of the personal-data vault (I9).

A subscription request names a fresh random ``address_ref``; the address lives in the parent's
vault entry under the contact kind ``email:<address_ref>``, encrypted with the parent's key. The
ledger holds only the reference, which says nothing about the address: when the parent's data is
destroyed (``Vault.forget``) or the subscription ends, the address is gone while every ledger entry
still verifies. The outbox keeps a keyed digest (HMAC-SHA-256 under a key derived from the vault's
key-encryption key) to send a week to an address once without storing the address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from ejournal.identity.vault import PersonalData, PersonForgotten, Vault

CONTACT_PREFIX = "email:"
MAX_ADDRESS_LENGTH = 254
_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class AddressError(ValueError):
    """Not an e-mail address we can send to."""


def normalise_address(text: str) -> str:
    """``local@domain`` with the domain in lower case (IDNA for a Cyrillic domain, e.g. .рф).

    Raises ``AddressError``: no display names, comments or quoted local parts, an ASCII local
    part (SMTPUTF8 is not assumed of every district's mail server), a domain with a dot.
    """
    address = text.strip()
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL.fullmatch(local) or ".." in local or local.startswith("."):
        raise AddressError("неверный адрес электронной почты")
    try:
        ascii_domain = domain.strip().lower().encode("idna").decode("ascii")
    except UnicodeError as e:
        raise AddressError("неверный домен адреса электронной почты") from e
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise AddressError("неверный домен адреса электронной почты")
    normalised = f"{local}@{ascii_domain}"
    if len(normalised) > MAX_ADDRESS_LENGTH:
        raise AddressError("слишком длинный адрес электронной почты")
    return normalised


def subscription_contacts(contacts: Mapping[str, str]) -> dict[str, str]:
    """The contacts that are subscriptions' addresses (kind ``email:<address_ref>``).

    They belong to the subscriptions, not to whoever edits the person's data: ``PUT /people``
    keeps them (a body may only send them back unchanged), and only the end of their subscription or
    ``Vault.forget`` removes them.
    """
    return {kind: value for kind, value in contacts.items() if kind.startswith(CONTACT_PREFIX)}


def digest_key(kek: bytes) -> bytes:
    """The key of address digests, derived from the vault's key-encryption key."""
    return hmac.new(kek, b"ejournal mail address digest", hashlib.sha256).digest()


class AddressBook:
    """Subscription addresses in the vault."""

    def __init__(self, vault: Vault, key: bytes) -> None:
        self._vault = vault
        self._key = key

    def digest(self, address: str) -> str:
        """A keyed digest of the address (compared without case)."""
        return hmac.new(self._key, address.casefold().encode(), hashlib.sha256).hexdigest()

    def store(
        self, parent_id: UUID, address_ref: UUID, address: str, *, school_id: UUID, now: datetime
    ) -> None:
        """Keep ``address`` in the parent's vault entry (created if the parent has none).

        Raises ``PersonForgotten`` and ``VaultError``.
        """
        stored = self._vault.get(parent_id)
        if stored is None:
            data = PersonalData(full_name="", contacts={_kind(address_ref): address})
            self._vault.put(parent_id, data, school_id=school_id, now=now)
            return
        contacts = dict(stored.data.contacts)
        contacts[_kind(address_ref)] = address
        data = PersonalData(stored.data.full_name, stored.data.birth_date, contacts)
        self._vault.put(parent_id, data, school_id=None, now=now)

    def address(self, parent_id: UUID, address_ref: UUID) -> str | None:
        """The address, or None if it was removed or the parent's data destroyed.

        Raises ``VaultError`` for a vault that cannot decrypt.
        """
        try:
            stored = self._vault.get(parent_id)
        except PersonForgotten:
            return None
        if stored is None:
            return None
        return stored.data.contacts.get(_kind(address_ref))

    def remove(self, parent_id: UUID, address_ref: UUID, *, now: datetime) -> None:
        """Remove one address: its request was superseded, or its subscription ended, so it has no
        purpose left (152-ФЗ). Other subscriptions' addresses of the parent stay."""
        try:
            stored = self._vault.get(parent_id)
        except PersonForgotten:
            return
        if stored is None or _kind(address_ref) not in stored.data.contacts:
            return
        contacts = dict(stored.data.contacts)
        del contacts[_kind(address_ref)]
        data = PersonalData(stored.data.full_name, stored.data.birth_date, contacts)
        self._vault.put(parent_id, data, school_id=None, now=now)

    def name(self, person_id: UUID) -> str | None:
        """A person's full name from the vault, if known."""
        try:
            stored = self._vault.get(person_id)
        except PersonForgotten:
            return None
        return stored.data.full_name or None if stored is not None else None


def _kind(address_ref: UUID) -> str:
    return f"{CONTACT_PREFIX}{address_ref}"
