"""The errors of the integrity package: one root, ``VerificationError``, one subclass per failure.

Every ``verify_*`` function of ``integrity/`` returns ``None`` or raises a subclass of
``VerificationError`` that says what was expected, what was found, and where. Hashes in
``expected`` and ``found`` are lowercase hex. ``leaf.LeafFormatError`` is deliberately not part of
this hierarchy: it is a ``ValueError`` about encoding input, raised before anything is verified.
"""

from __future__ import annotations


class VerificationError(Exception):
    """Root of every verification failure.

    ``message`` says what is wrong; the optional keyword attributes say what was ``expected``, what
    was ``found`` and ``where`` (for the ledger: ``"log X index N"``). ``str(error)`` combines them:
    ``"log X index 5: chain hash differs (expected 00ab…, found 11cd…)"``.
    """

    message: str
    expected: str | None
    found: str | None
    where: str | None

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        found: str | None = None,
        where: str | None = None,
    ) -> None:
        self.message = message
        self.expected = expected
        self.found = found
        self.where = where
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message if self.where is None else f"{self.where}: {self.message}"
        details: list[str] = []
        if self.expected is not None:
            details.append(f"expected {self.expected}")
        if self.found is not None:
            details.append(f"found {self.found}")
        return f"{text} ({', '.join(details)})" if details else text

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only attributes would be lost by the default pickling of exceptions.
        return (_rebuild, (type(self), self.message, self.expected, self.found, self.where))


def _rebuild(
    cls: type[VerificationError],
    message: str,
    expected: str | None,
    found: str | None,
    where: str | None,
) -> VerificationError:
    return cls(message, expected=expected, found=found, where=where)


class InclusionProofError(VerificationError):
    """An inclusion proof is malformed or does not lead to the expected root."""


class ConsistencyProofError(VerificationError):
    """A consistency proof is malformed or does not connect the two roots."""


class RootMismatchError(VerificationError):
    """A recomputed Merkle root differs from the root that was signed or stored."""


class SignatureError(VerificationError):
    """A signature by a known key does not verify."""


class UnknownKeyError(SignatureError):
    """No signature of a note was made by a known key."""


class QuorumError(SignatureError):
    """A checkpoint carries fewer valid witness cosignatures than the quorum asks for."""


class MalformedVerifierKeyError(VerificationError):
    """A verifier key string (``name+keyid+base64``) is malformed or its key ID does not match."""


class MalformedNoteError(VerificationError):
    """A signed note does not follow the C2SP signed-note format."""


class MalformedCheckpointError(VerificationError):
    """A checkpoint body does not follow the C2SP tlog-checkpoint format."""


class MalformedReceiptError(VerificationError):
    """A receipt does not follow the C2SP tlog-proof format."""


class OriginMismatchError(VerificationError):
    """A checkpoint names another log than the one it was expected to come from."""


class ChainError(VerificationError):
    """A recomputed chain hash differs from the stored one."""


class LeafMismatchError(VerificationError):
    """Leaf bytes recomputed from a stored record differ from the stored leaf or its hash."""


class MissingEntryError(VerificationError):
    """An index of a log has no entry (a gap in the dense index), or an entry has no record."""


class TileError(VerificationError):
    """A file of a tiled log (C2SP tlog-tiles: a hash tile or an entry bundle) is missing,
    malformed, or holds other hashes than the ones recomputed from the entries (``where`` is the
    file's path inside the log's directory, and the hash or entry in it)."""


class ManifestError(VerificationError):
    """A bag's files differ from its manifests: a file changed, missing, added, or a malformed
    BagIt tag file (``where`` is the file's path inside the bag)."""


class ArchiveFormatError(VerificationError):
    """An archive file that the verifier reads does not follow the documented archive format."""


class DocumentMismatchError(VerificationError):
    """A document in an archive (a summary sheet) differs from the one recomputed from the log's
    entries, or from the document its certificate names."""


class MalformedCertificateError(VerificationError):
    """A document certificate does not follow the certificate format."""


class MissingPayloadError(VerificationError):
    """An entry's payload is absent and no disposition act of the log accounts for it."""
