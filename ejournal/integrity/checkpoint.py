"""C2SP tlog-checkpoints (https://c2sp.org/tlog-checkpoint): the signed head of a Merkle log.

The body is the text of a signed note: the origin (which log), the tree size in decimal without
leading zeros, the base64 of the 32-byte RFC 6962 root, and optional non-empty extension lines,
each ending in a newline::

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.errors import MalformedCheckpointError, OriginMismatchError
from ejournal.integrity.note import NoteSigner, NoteVerifier, VerifiedNote, open_note, sign_note
from ejournal.integrity.rfc6962 import HASH_SIZE

MAX_TREE_SIZE = 2**64 - 1
"""Tree sizes are unsigned 64-bit integers, as everywhere else in the transparency ecosystem."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE_DIGITS = len(str(MAX_TREE_SIZE))
_CONTROL = re.compile(r"[\x00-\x1f]")


def _check_line(value: str, what: str) -> None:
    if not value:
        raise MalformedCheckpointError(f"{what} is empty")
    control = _CONTROL.search(value)
    if control is not None:
        raise MalformedCheckpointError(f"{what} contains control character {control.group()!r}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of a log: its origin, its size, and the Merkle root of its first ``size`` leaves.

    Raises ``MalformedCheckpointError`` on construction if a field cannot be written as a
    checkpoint line: an empty origin or extension, a newline or other control character in one,
    a size outside 0..2**64-1, or a root hash that is not 32 bytes.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedCheckpointError(f"tree size {self.size!r} is out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedCheckpointError(
                "root hash has the wrong size",
                expected=f"{HASH_SIZE} bytes",
                found=f"{len(self.root_hash)} bytes",
            )
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, extension in enumerate(self.extensions, 1):
            _check_line(extension, f"extension line {number}")

    def to_body(self) -> str:
        """Return the note text of this checkpoint. Raises nothing."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse the note text of a checkpoint; the inverse of ``to_body``.

        Raises ``MalformedCheckpointError`` if the text does not end in a newline, has fewer than
        three lines, an empty line, a size that is not canonical decimal in 0..2**64-1, or a root
        hash that is not canonical base64 of 32 bytes.
        """
        if not text.endswith("\n"):
            raise MalformedCheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpointError(
                "checkpoint text is too short",
                expected="at least 3 lines",
                found=f"{len(lines)} lines",
            )
        origin, size_text, root_text, *extensions = lines
        if len(size_text) > _MAX_SIZE_DIGITS or _DECIMAL.fullmatch(size_text) is None:
            raise MalformedCheckpointError(
                "tree size is not a decimal in 0..2**64-1 without leading zeros",
                found=repr(size_text),
            )
        try:
            root_hash = b64decode(root_text)
        except ValueError as e:
            raise MalformedCheckpointError(f"root hash: {e}", found=repr(root_text)) from e
        return cls(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Iterable[NoteSigner]) -> str:
    """Return the checkpoint as a signed note.

    Raises ``ValueError`` if there is no signer or a signer is invalid (see ``note.sign_note``).
    """
    return sign_note(checkpoint.to_body(), signers)


def open_checkpoint(
    note: str | bytes, verifiers: Iterable[NoteVerifier], *, origin: str | None = None
) -> tuple[Checkpoint, VerifiedNote]:
    """Verify a signed checkpoint and parse it; with ``origin``, require that log.

    Raises what ``note.open_note`` raises (``MalformedNoteError``, ``SignatureError``,
    ``UnknownKeyError``), ``MalformedCheckpointError`` if the signed text is not a checkpoint, and
    ``OriginMismatchError`` if it is another log's.
    """
    verified = open_note(note, verifiers)
    checkpoint = Checkpoint.from_body(verified.text)
    if origin is not None and checkpoint.origin != origin:
        raise OriginMismatchError(
            "checkpoint is from another log", expected=origin, found=checkpoint.origin
        )
    return checkpoint, verified
