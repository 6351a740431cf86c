from __future__ import annotations

import base64

import pytest

from ejournal.integrity.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    open_checkpoint,
    sign_checkpoint,
)
from ejournal.integrity.errors import MalformedCheckpointError, OriginMismatchError, UnknownKeyError
from ejournal.integrity.note import generate_signer, split_note
from tests.integrity.vectors import C2SP

EXAMPLE = (C2SP / "tlog-checkpoint-example.note").read_text(encoding="utf-8")
COSIGNED = (C2SP / "tlog-cosignature-example.note").read_text(encoding="utf-8")
EXAMPLE_ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()


def test_c2sp_example_body_parses_and_round_trips() -> None:
    text, signatures = split_note(EXAMPLE)
    checkpoint = Checkpoint.from_body(text)
    assert checkpoint == Checkpoint("example.com/behind-the-sofa", 20852163, EXAMPLE_ROOT)
    assert checkpoint.to_body() == text
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa"]


def test_c2sp_cosigned_example_parses() -> None:
    text, signatures = split_note(COSIGNED)
    assert Checkpoint.from_body(text).size == 20852163
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    with pytest.raises(UnknownKeyError):  # no key is published for the example
        open_checkpoint(COSIGNED, [generate_signer("example.com/behind-the-sofa").verifier()])


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("school.example/log/2025", 0, ROOT),
        Checkpoint("o", 1, ROOT),
        Checkpoint(origin="школа №5/2025-2026", size=MAX_TREE_SIZE, root_hash=ROOT),
        Checkpoint("o", 7, ROOT, ("extension one", "two: 2")),
    ],
)
def test_body_round_trip(checkpoint: Checkpoint) -> None:
    body = checkpoint.to_body()
    assert body.endswith("\n")
    assert Checkpoint.from_body(body) == checkpoint
    assert body.count("\n") == 3 + len(checkpoint.extensions)


def test_body_layout() -> None:
    checkpoint = Checkpoint("school.example/log", 42, ROOT, ("ext",))
    assert checkpoint.extensions == ("ext",)
    assert checkpoint.to_body() == f"school.example/log\n42\n{ROOT_B64}\next\n"


def test_signed_checkpoint_round_trip() -> None:
    log, witness = generate_signer("school.example/log"), generate_signer("district.example/w")
    checkpoint = Checkpoint("school.example/log", 9, ROOT)
    note = sign_checkpoint(checkpoint, [log, witness])
    opened, verified = open_checkpoint(note, [witness.verifier()], origin="school.example/log")
    assert opened == checkpoint
    assert set(verified.signatures) == {"district.example/w"}
    with pytest.raises(OriginMismatchError, match="checkpoint is from another log") as caught:
        open_checkpoint(note, [log.verifier()], origin="school.example/other")
    assert (caught.value.expected, caught.value.found) == (
        "school.example/other",
        "school.example/log",
    )


def test_signed_text_that_is_not_a_checkpoint() -> None:
    from ejournal.integrity.note import sign_note

    log = generate_signer("school.example/log")
    with pytest.raises(MalformedCheckpointError, match="too short"):
        open_checkpoint(sign_note("just text\n", [log]), [log.verifier()])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"o\n1\n{ROOT_B64}", "must end with a newline"),
        ("o\n1\n", "too short"),
        (f"\n1\n{ROOT_B64}\n", "origin is empty"),
        (f"o\n01\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n+1\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n-1\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n 1\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n1_0\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n\u0661\n{ROOT_B64}\n", "not a decimal"),  # ARABIC-INDIC DIGIT ONE
        (f"o\n{2**64}\n{ROOT_B64}\n", "out of range"),
        (f"o\n{'9' * 5000}\n{ROOT_B64}\n", "not a decimal"),
        ("o\n1\nAAAA\n", "root hash has the wrong size"),
        (f"o\n1\n{ROOT_B64[:-1]}\n", "root hash: invalid base64"),
        (f"o\n1\n{ROOT_B64[:-2]}B=\n", "root hash: non-canonical base64"),
        (f"o\n1\n {ROOT_B64}\n", "root hash: invalid base64"),
        (f"o\n1\n{ROOT_B64}\n\next\n", "extension line 1 is empty"),
        (f"o\n1\n{ROOT_B64}\next\n\n", "extension line 2 is empty"),
        (f"o\t\n1\n{ROOT_B64}\n", "origin contains control character"),
    ],
)
def test_malformed_bodies(body: str, message: str) -> None:
    with pytest.raises(MalformedCheckpointError, match=message):
        Checkpoint.from_body(body)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("", 1, ROOT), "origin is empty"),
        (("a\nb", 1, ROOT), "origin contains control character"),
        (("o", -1, ROOT), "tree size -1 is out of range"),
        (("o", 2**64, ROOT), "out of range"),
        (("o", True, ROOT), "out of range"),
        (("o", 1, ROOT[:31]), "root hash has the wrong size"),
        (("o", 1, ROOT, ("",)), "extension line 1 is empty"),
        (("o", 1, ROOT, ("a\nb",)), "extension line 1 contains control character"),
    ],
)
def test_unwritable_checkpoints_are_refused(arguments: tuple[object, ...], message: str) -> None:
    with pytest.raises(MalformedCheckpointError, match=message):
        Checkpoint(*arguments)  # type: ignore[arg-type]
