"""The bytes of C2SP tlog-witness (https://c2sp.org/tlog-witness) ``add-checkpoint``.

The request body is an old size line ``old <size>``, at most 63 consistency proof lines (one
base64 hash each), an empty line, and the signed checkpoint note. A 200 answer is one or more
signature lines (the witness's cosignatures); a 409 answer is the size of the latest checkpoint the
witness cosigned for that origin, a newline, as ``text/x.tlog.size``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.checkpoint import MAX_TREE_SIZE
from ejournal.integrity.rfc6962 import HASH_SIZE

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class MalformedRequestError(ValueError):
    """An add-checkpoint body that does not follow the format (answered with 400)."""


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """An add-checkpoint request: the old size, the consistency proof and the signed note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str

    def encode(self) -> bytes:
        """The request body. Raises nothing."""
        lines = [f"old {self.old_size}", *(b64encode(h) for h in self.proof), ""]
        return ("\n".join(lines) + "\n" + self.note).encode("utf-8")

    @classmethod
    def decode(cls, body: bytes) -> AddCheckpoint:
        """Parse a request body. Raises ``MalformedRequestError`` if it is not UTF-8, has no old
        size line, a size that is not canonical decimal, more than 63 proof lines, a line that
        is not the base64 of a 32-byte hash, or no empty line before the checkpoint."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedRequestError(f"the body is not UTF-8: {e.reason}") from e
        head, blank, note = text.partition("\n\n")
        if not blank:
            raise MalformedRequestError("no empty line before the checkpoint")
        first, *hashes = head.split("\n")
        keyword, _, size_text = first.partition(" ")
        if keyword != "old" or _DECIMAL.fullmatch(size_text) is None:
            raise MalformedRequestError(f"the first line is not 'old <size>': {first[:40]!r}")
        old_size = int(size_text)
        if old_size > MAX_TREE_SIZE:
            raise MalformedRequestError(f"old size {old_size} is out of range")
        if len(hashes) > MAX_PROOF_LINES:
            raise MalformedRequestError(f"{len(hashes)} consistency proof lines, at most 63")
        proof = []
        for number, line in enumerate(hashes, 1):
            try:
                digest = b64decode(line)
            except ValueError as e:
                raise MalformedRequestError(f"proof line {number}: {e}") from e
            if len(digest) != HASH_SIZE:
                raise MalformedRequestError(f"proof line {number} is not a 32-byte hash")
            proof.append(digest)
        return cls(old_size=old_size, proof=tuple(proof), note=note)


def encode_size(size: int) -> bytes:
    """The body of a 409 answer. Raises nothing."""
    return f"{size}\n".encode("ascii")


def decode_size(body: bytes) -> int:
    """The size in a 409 answer. Raises ``MalformedRequestError`` if it is not ``<decimal>\\n``."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or _DECIMAL.fullmatch(text[:-1]) is None:
        raise MalformedRequestError(f"not a tree size: {text[:40]!r}")
    return int(text[:-1])


def cosignature_lines(body: bytes) -> Sequence[str]:
    """The signature lines of a 200 answer. Raises ``MalformedRequestError`` if a line does not
    start with the em dash or the body does not end in a newline."""
    text = body.decode("utf-8", errors="replace")
    if not text.endswith("\n"):
        raise MalformedRequestError("the cosignature lines do not end in a newline")
    lines = [line + "\n" for line in text[:-1].split("\n")]
    if not all(line.startswith("\u2014 ") for line in lines):
        raise MalformedRequestError("an answer line is not a signature line")
    return lines
