"""A receipt for one record: a C2SP tlog-proof (https://c2sp.org/tlog-proof) carrying the leaf.

::

    c2sp.org/tlog-proof@v1
    extra <base64 of the leaf bytes>
    index <decimal index of the leaf>
    <base64 audit path hash, leaf's sibling first, one per line>
    <blank line>
    <the signed checkpoint note, verbatim>

The specification leaves the ``extra`` line optional and opaque; a receipt always has it, holding
the leaf bytes so that a verifier can recompute the leaf hash SHA-256(0x00 ‖ leaf). The extra data
is not trusted as such: it is trusted only once its hash is proven included under a checkpoint
signed by a known key, which is what ``verify_receipt`` checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.checkpoint import MAX_TREE_SIZE, Checkpoint, open_checkpoint
from ejournal.integrity.errors import InclusionProofError, MalformedReceiptError
from ejournal.integrity.note import NoteVerifier, VerifiedNote
from ejournal.integrity.proof import verify_inclusion
from ejournal.integrity.rfc6962 import HASH_SIZE, hash_leaf

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
"""The first line of every receipt."""

MAX_PROOF_HASHES = 64
"""An audit path in a tree of fewer than 2**64 leaves has at most 64 hashes."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_INDEX_DIGITS = len(str(MAX_TREE_SIZE))


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """The leaf bytes of one record, its index, its audit path, and the signed checkpoint note.

    Raises ``MalformedReceiptError`` on construction if the index is outside 0..2**64-2, the path
    has a hash that is not 32 bytes or more than ``MAX_PROOF_HASHES`` hashes, or the checkpoint
    note is empty or does not end in a newline.
    """

    leaf: bytes
    index: int
    proof: tuple[bytes, ...]
    checkpoint: str

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not 0 <= self.index < MAX_TREE_SIZE:
            raise MalformedReceiptError(f"leaf index {self.index!r} is out of range")
        object.__setattr__(self, "proof", tuple(self.proof))
        if len(self.proof) > MAX_PROOF_HASHES:
            raise MalformedReceiptError(
                "audit path is too long",
                expected=f"at most {MAX_PROOF_HASHES} hashes",
                found=f"{len(self.proof)} hashes",
            )
        for position, item in enumerate(self.proof):
            if len(item) != HASH_SIZE:
                raise MalformedReceiptError(
                    f"audit path hash {position} has the wrong size",
                    expected=f"{HASH_SIZE} bytes",
                    found=f"{len(item)} bytes",
                )
        if not self.checkpoint.endswith("\n"):
            raise MalformedReceiptError("checkpoint note must end with a newline")

    def encode(self) -> str:
        """Return the receipt in the tlog-proof text format. Raises nothing."""
        lines = [
            TLOG_PROOF_HEADER,
            f"extra {b64encode(self.leaf)}",
            f"index {self.index}",
            *(b64encode(item) for item in self.proof),
            "",
        ]
        return "\n".join(lines) + "\n" + self.checkpoint

    @classmethod
    def decode(cls, text: str | bytes) -> Receipt:
        """Parse a receipt; the inverse of ``encode``. The checkpoint note is taken verbatim and
        checked only by ``verify_receipt``.

        Raises ``MalformedReceiptError`` if the text is not UTF-8, the header, ``extra`` or
        ``index`` line is missing or malformed, a path line is not canonical base64 of 32 bytes,
        there is no blank line before the checkpoint, or a field is out of range (see the class).
        """
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise MalformedReceiptError(f"receipt is not UTF-8: {e.reason}") from e
        # The lines after the blank one are joined back into the checkpoint note, unchanged.
        lines = iter(text.split("\n"))
        header = next(lines)
        if header != TLOG_PROOF_HEADER:
            raise MalformedReceiptError(
                "not a tlog-proof", expected=TLOG_PROOF_HEADER, found=repr(header[:40])
            )
        extra = next(lines, "")
        if not extra.startswith("extra "):
            raise MalformedReceiptError("receipt has no extra line with the leaf bytes")
        try:
            leaf = b64decode(extra[len("extra ") :])
        except ValueError as e:
            raise MalformedReceiptError(f"extra line: {e}") from e
        index_line = next(lines, "")
        index_text = index_line.removeprefix("index ")
        if (
            index_text == index_line
            or len(index_text) > _MAX_INDEX_DIGITS
            or _DECIMAL.fullmatch(index_text) is None
        ):
            raise MalformedReceiptError(
                "index line is not 'index' and a decimal without leading zeros",
                found=repr(index_line[:40]),
            )
        proof: list[bytes] = []
        for line in lines:
            if line == "":
                break
            if len(proof) == MAX_PROOF_HASHES:
                raise MalformedReceiptError(f"audit path has more than {MAX_PROOF_HASHES} hashes")
            try:
                proof.append(b64decode(line))
            except ValueError as e:
                raise MalformedReceiptError(
                    f"audit path line {len(proof)}: {e}", found=repr(line[:60])
                ) from e
        else:
            raise MalformedReceiptError("receipt has no blank line before the checkpoint")
        checkpoint = "\n".join(lines)
        if not checkpoint:
            raise MalformedReceiptError("receipt has no checkpoint")
        return cls(leaf=leaf, index=int(index_text), proof=tuple(proof), checkpoint=checkpoint)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedReceipt:
    """What a verified receipt proves: ``leaf`` is at ``index`` of the log under ``checkpoint``,
    signed as ``note`` says."""

    checkpoint: Checkpoint
    note: VerifiedNote
    index: int
    leaf: bytes
    leaf_hash: bytes


def verify_receipt(
    receipt: Receipt, verifiers: Iterable[NoteVerifier], *, origin: str | None = None
) -> VerifiedReceipt:
    """Verify the checkpoint's signature, and the inclusion of hash_leaf(leaf) at the index under
    the checkpoint's root; with ``origin``, also require that log.

    Raises ``MalformedNoteError``, ``SignatureError`` or ``UnknownKeyError`` for the checkpoint
    note, ``MalformedCheckpointError`` if its text is not a checkpoint, ``OriginMismatchError``
    for another log, and ``InclusionProofError`` if the leaf is not proven included.
    """
    checkpoint, note = open_checkpoint(receipt.checkpoint, verifiers, origin=origin)
    leaf_hash = hash_leaf(receipt.leaf)
    try:
        verify_inclusion(
            leaf_hash=leaf_hash,
            index=receipt.index,
            size=checkpoint.size,
            proof=receipt.proof,
            root=checkpoint.root_hash,
        )
    except InclusionProofError as e:
        raise InclusionProofError(
            e.message,
            expected=e.expected,
            found=e.found,
            where=f"receipt for {checkpoint.origin} index {receipt.index}",
        ) from e
    return VerifiedReceipt(
        checkpoint=checkpoint,
        note=note,
        index=receipt.index,
        leaf=receipt.leaf,
        leaf_hash=leaf_hash,
    )
