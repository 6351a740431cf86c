from __future__ import annotations

import pickle

import pytest

from ejournal.integrity import errors
from ejournal.integrity.errors import (
    ChainError,
    ConsistencyProofError,
    InclusionProofError,
    LeafMismatchError,
    MalformedCheckpointError,
    MalformedNoteError,
    MalformedReceiptError,
    MissingEntryError,
    RootMismatchError,
    SignatureError,
    UnknownKeyError,
    VerificationError,
)
from ejournal.integrity.leaf import LeafFormatError
from ejournal.integrity.note import generate_signer, open_note, sign_note


def test_message_names_where_expected_and_found() -> None:
    error = ChainError("chain hash differs", expected="00ab", found="11cd", where="log L index 5")
    assert str(error) == "log L index 5: chain hash differs (expected 00ab, found 11cd)"
    assert (error.message, error.expected, error.found, error.where) == (
        "chain hash differs",
        "00ab",
        "11cd",
        "log L index 5",
    )


def test_message_without_details_is_the_message() -> None:
    assert str(VerificationError("bad")) == "bad"
    assert str(MissingEntryError("no entry", where="log L index 3")) == "log L index 3: no entry"
    assert str(RootMismatchError("roots differ", found="ff")) == "roots differ (found ff)"


@pytest.mark.parametrize(
    "cls",
    [
        InclusionProofError,
        ConsistencyProofError,
        RootMismatchError,
        SignatureError,
        UnknownKeyError,
        MalformedNoteError,
        MalformedCheckpointError,
        MalformedReceiptError,
        ChainError,
        LeafMismatchError,
        MissingEntryError,
        errors.MalformedVerifierKeyError,
        errors.OriginMismatchError,
    ],
)
def test_every_error_is_a_verification_error(cls: type[VerificationError]) -> None:
    assert issubclass(cls, VerificationError)
    with pytest.raises(VerificationError, match=r"^log X index 1: broken"):
        raise cls("broken", where="log X index 1")


def test_a_note_of_an_unknown_key_is_refused_as_a_signature_error() -> None:
    # A caller that guards against bad signatures (``except SignatureError``) must also catch a
    # note that no key it trusts has signed.
    note = sign_note("ejournal.test/log\n1\nAAAA\n", [generate_signer("ejournal.test/log")])
    trusted = generate_signer("ejournal.test/log").verifier()
    with pytest.raises(SignatureError, match="note is not signed by any known key") as caught:
        open_note(note, [trusted])
    assert type(caught.value) is UnknownKeyError


def test_leaf_format_error_stays_a_value_error() -> None:
    assert issubclass(LeafFormatError, ValueError)
    assert not issubclass(LeafFormatError, VerificationError)


def test_errors_survive_pickling() -> None:
    error = LeafMismatchError("leaf differs", expected="aa", found="bb", where="log L index 9")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is LeafMismatchError
    assert (copy.message, copy.expected, copy.found, copy.where) == (
        "leaf differs",
        "aa",
        "bb",
        "log L index 9",
    )
    assert str(copy) == str(error)
