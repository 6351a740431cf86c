"""Strict standard base64 (RFC 4648 §4), as the C2SP formats use it."""

from __future__ import annotations

import base64


def b64encode(data: bytes) -> str:
    """Return standard base64 with padding. Raises nothing."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode standard base64, accepting only the canonical encoding of the result.

    Raises ``ValueError`` for characters outside the alphabet (spaces and newlines included), wrong
    padding, or non-zero unused bits: a value has exactly one accepted spelling, so a signed text
    cannot be altered without changing what it decodes to.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError as e:  # binascii.Error, or non-ASCII text
        raise ValueError(f"invalid base64: {e}") from e
    if b64encode(data) != text:
        raise ValueError("non-canonical base64")
    return data
