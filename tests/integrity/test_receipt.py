from __future__ import annotations

import base64

import pytest

from ejournal.integrity.checkpoint import Checkpoint, sign_checkpoint
from ejournal.integrity.errors import (
    InclusionProofError,
    MalformedCheckpointError,
    MalformedReceiptError,
    OriginMismatchError,
    SignatureError,
    UnknownKeyError,
)
from ejournal.integrity.note import generate_signer, sign_note
from ejournal.integrity.proof import inclusion_proof
from ejournal.integrity.receipt import TLOG_PROOF_HEADER, Receipt, verify_receipt
from ejournal.integrity.rfc6962 import hash_leaf, root_of

ORIGIN = "school.example/log/2025"
LOG = generate_signer(ORIGIN)
LEAVES = [b"leaf number %d" % i for i in range(11)]
HASHES = [hash_leaf(leaf) for leaf in LEAVES]
CHECKPOINT = Checkpoint(ORIGIN, len(LEAVES), root_of(HASHES))
NOTE = sign_checkpoint(CHECKPOINT, [LOG])


def receipt_for(index: int, leaves: list[bytes] = LEAVES, note: str = NOTE) -> Receipt:
    hashes = [hash_leaf(leaf) for leaf in leaves]
    proof = inclusion_proof(index, len(leaves), hashes)
    return Receipt(leaf=leaves[index], index=index, proof=tuple(proof), checkpoint=note)


@pytest.mark.parametrize("index", range(len(LEAVES)))
def test_receipt_round_trip_and_verify(index: int) -> None:
    receipt = receipt_for(index)
    text = receipt.encode()
    assert Receipt.decode(text) == receipt
    assert Receipt.decode(text.encode("utf-8")) == receipt
    verified = verify_receipt(Receipt.decode(text), [LOG.verifier()], origin=ORIGIN)
    assert verified.checkpoint == CHECKPOINT
    assert (verified.index, verified.leaf, verified.leaf_hash) == (
        index,
        LEAVES[index],
        HASHES[index],
    )
    assert set(verified.note.signatures) == {ORIGIN}


def test_receipt_layout() -> None:
    receipt = receipt_for(5)
    lines = receipt.encode().split("\n")
    assert lines[0] == TLOG_PROOF_HEADER
    assert lines[1] == "extra " + base64.b64encode(LEAVES[5]).decode()
    assert lines[2] == "index 5"
    assert [base64.b64decode(line) for line in lines[3:7]] == list(receipt.proof)
    assert lines[7] == ""
    assert "\n".join(lines[8:]) == NOTE


def test_receipt_of_a_one_leaf_log_has_an_empty_path() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, hash_leaf(b"")), [LOG])
    receipt = receipt_for(0, [b""], note)
    assert receipt.proof == ()
    assert receipt.encode().startswith(f"{TLOG_PROOF_HEADER}\nextra \nindex 0\n\n{ORIGIN}\n")
    assert Receipt.decode(receipt.encode()) == receipt
    verify_receipt(receipt, [LOG.verifier()])


def test_changed_leaf_is_not_included() -> None:
    receipt = receipt_for(3)
    forged = Receipt(
        leaf=b"leaf number 4", index=3, proof=receipt.proof, checkpoint=receipt.checkpoint
    )
    with pytest.raises(InclusionProofError, match="calculated root of tree size 11") as caught:
        verify_receipt(forged, [LOG.verifier()])
    assert caught.value.where == f"receipt for {ORIGIN} index 3"
    assert caught.value.expected == CHECKPOINT.root_hash.hex()


def test_wrong_index_or_path_is_not_included() -> None:
    receipt = receipt_for(3)
    moved = Receipt(leaf=receipt.leaf, index=2, proof=receipt.proof, checkpoint=NOTE)
    with pytest.raises(InclusionProofError, match="calculated root"):
        verify_receipt(moved, [LOG.verifier()])
    beyond = Receipt(leaf=receipt.leaf, index=11, proof=receipt.proof, checkpoint=NOTE)
    with pytest.raises(InclusionProofError, match="leaf index 11 is not below tree size 11"):
        verify_receipt(beyond, [LOG.verifier()])
    short = Receipt(leaf=receipt.leaf, index=3, proof=receipt.proof[:-1], checkpoint=NOTE)
    with pytest.raises(InclusionProofError, match="wrong proof length"):
        verify_receipt(short, [LOG.verifier()])


def test_checkpoint_must_be_signed_by_a_known_key_of_the_right_log() -> None:
    receipt = receipt_for(0)
    with pytest.raises(UnknownKeyError):
        verify_receipt(receipt, [generate_signer(ORIGIN).verifier()])
    with pytest.raises(OriginMismatchError, match="another log"):
        verify_receipt(receipt, [LOG.verifier()], origin="school.example/log/2024")
    tampered = NOTE.replace(f"\n{len(LEAVES)}\n", f"\n{len(LEAVES) + 1}\n")
    with pytest.raises(SignatureError, match="does not verify"):
        verify_receipt(receipt_for(0, note=tampered), [LOG.verifier()])
    with pytest.raises(MalformedCheckpointError):
        verify_receipt(receipt_for(0, note=sign_note("hello\n", [LOG])), [LOG.verifier()])


GOOD = receipt_for(5).encode()
HEAD, _, REST = GOOD.partition("\n")
EXTRA, _, REST = REST.partition("\n")
INDEX, _, REST = REST.partition("\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a tlog-proof"),
        (GOOD.replace(TLOG_PROOF_HEADER, "c2sp.org/tlog-proof@v2"), "not a tlog-proof"),
        (f"{HEAD}\n{INDEX}\n{REST}", "no extra line"),
        (f"{HEAD}\n{EXTRA}=\n{INDEX}\n{REST}", "extra line: invalid base64"),
        (f"{HEAD}\n{EXTRA}\nindex 05\n{REST}", "index line is not"),
        (f"{HEAD}\n{EXTRA}\nindex -5\n{REST}", "index line is not"),
        (f"{HEAD}\n{EXTRA}\nindex  5\n{REST}", "index line is not"),
        (f"{HEAD}\n{EXTRA}\nindex\n{REST}", "index line is not"),
        (f"{HEAD}\n{EXTRA}\nIndex 5\n{REST}", "index line is not"),
        (f"{HEAD}\n{EXTRA}\nindex {2**64 - 1}\n{REST}", "out of range"),
        (f"{HEAD}\n{EXTRA}\n{INDEX}\nAAAA\n{REST}", "audit path hash 0 has the wrong size"),
        (f"{HEAD}\n{EXTRA}\n{INDEX}\nnot base64!\n{REST}", "audit path line 0: invalid base64"),
        (f"{HEAD}\n{EXTRA}\n{INDEX}\n" + ("A" * 43 + "=\n") * 65, "more than 64 hashes"),
        (GOOD.split("\n\n")[0], "no blank line before the checkpoint"),
        (GOOD.split("\n\n")[0] + "\n\n", "no checkpoint"),
        (GOOD[:-1], "checkpoint note must end with a newline"),
        (GOOD.encode("utf-8")[:-200] + b"\xff\n", "not UTF-8"),
    ],
)
def test_malformed_receipts(text: str | bytes, message: str) -> None:
    with pytest.raises(MalformedReceiptError, match=message):
        Receipt.decode(text)


def test_receipt_fields_are_checked_on_construction() -> None:
    with pytest.raises(MalformedReceiptError, match="leaf index -1 is out of range"):
        Receipt(leaf=b"", index=-1, proof=(), checkpoint=NOTE)
    with pytest.raises(MalformedReceiptError, match="audit path hash 1 has the wrong size"):
        Receipt(leaf=b"", index=0, proof=(HASHES[0], b"x"), checkpoint=NOTE)
    with pytest.raises(MalformedReceiptError, match="audit path is too long"):
        Receipt(leaf=b"", index=0, proof=(HASHES[0],) * 65, checkpoint=NOTE)
