"""Password hashing with Argon2id (п. 4.1–4.2), as OWASP currently advises.

OWASP's Password Storage Cheat Sheet: Argon2id with m = 19 MiB, t = 2, p = 1 (its first
equivalent setting). Each hash has its own random salt and is stored in PHC string format, which
carries the parameters with the hash, so they can be raised later without breaking stored
credentials. Verification is ``cryptography``'s own, which compares in constant time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
_SALT_SIZE = 16
_HASH_SIZE = 32


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    memory_kib: int = 19 * 1024
    iterations: int = 2
    lanes: int = 1


OWASP = Argon2Parameters()


def hash_password(password: str, parameters: Argon2Parameters = OWASP) -> str:
    """The PHC string ``$argon2id$v=19$m=…,t=…,p=…$salt$hash`` of ``password``."""
    kdf = Argon2id(
        salt=secrets.token_bytes(_SALT_SIZE),
        length=_HASH_SIZE,
        iterations=parameters.iterations,
        lanes=parameters.lanes,
        memory_cost=parameters.memory_kib,
    )
    return kdf.derive_phc_encoded(password.encode("utf-8"))


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the PHC string ``encoded`` (constant-time comparison)."""
    try:
        Argon2id.verify_phc_encoded(password.encode("utf-8"), encoded)
    except (InvalidKey, ValueError):
        return False
    return True


def acceptable_password(password: str, login: str) -> bool:
    """Length is what makes a password strong (OWASP, NIST SP 800-63B): no composition rules."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return False
    return password.casefold() != login.casefold()


def generate_password() -> str:
    """A one-time password for an administrator's reset: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)
