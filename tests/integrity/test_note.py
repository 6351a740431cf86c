from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ejournal.integrity.errors import (
    MalformedNoteError,
    MalformedVerifierKeyError,
    SignatureError,
    UnknownKeyError,
    VerificationError,
)
from ejournal.integrity.note import (
    MAX_SIGNATURES,
    Ed25519Signer,
    Verifier,
    generate_signer,
    is_valid_key_name,
    open_note,
    sign_note,
    split_note,
)
from tests.integrity.vectors import C2SP

EXAMPLE_VKEY = (C2SP / "signed-note-example.vkey").read_text(encoding="utf-8").strip()
EXAMPLE_NOTE = (C2SP / "signed-note-example.note").read_bytes()


def test_c2sp_example_note_verifies_with_example_key() -> None:
    verifier = Verifier.from_vkey(EXAMPLE_VKEY)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id.hex() == "530d903a"
    assert verifier.vkey == EXAMPLE_VKEY
    note = open_note(EXAMPLE_NOTE, [verifier])
    assert note.text == "This is an example message.\n"
    assert list(note.signatures) == ["example.com/foo"]
    assert note.signatures["example.com/foo"].key_id == bytes.fromhex("530d903a")
    assert note.unverified == ()
    assert open_note(EXAMPLE_NOTE.decode("utf-8"), [verifier]) == note


def test_key_id_is_hash_of_name_type_and_key() -> None:
    verifier = Verifier.from_vkey(EXAMPLE_VKEY)
    material = b"example.com/foo\n\x01" + verifier.public_key
    assert verifier.key_id == hashlib.sha256(material).digest()[:4]


@pytest.mark.parametrize("position", range(len(EXAMPLE_NOTE)))
def test_changing_any_byte_of_the_example_note_fails(position: int) -> None:
    verifier = Verifier.from_vkey(EXAMPLE_VKEY)
    changed = bytearray(EXAMPLE_NOTE)
    changed[position] ^= 0x01
    with pytest.raises(VerificationError):
        open_note(bytes(changed), [verifier])


@pytest.mark.parametrize("position", range(len(EXAMPLE_VKEY)))
def test_changing_any_character_of_the_example_key_fails(position: int) -> None:
    changed = list(EXAMPLE_VKEY)
    changed[position] = chr(ord(changed[position]) ^ 0x01)
    with pytest.raises(VerificationError):
        open_note(EXAMPLE_NOTE, [Verifier.from_vkey("".join(changed))])


def test_changed_text_fails_the_signature() -> None:
    verifier = Verifier.from_vkey(EXAMPLE_VKEY)
    changed = EXAMPLE_NOTE.replace(b"example message", b"example massage")
    with pytest.raises(SignatureError, match=r"signature by example\.com/foo .* does not verify"):
        open_note(changed, [verifier])


def test_changed_key_fails_its_key_id() -> None:
    name, key_id, _ = EXAMPLE_VKEY.split("+", 2)
    other = generate_signer(name).vkey.split("+", 2)[2]
    with pytest.raises(
        MalformedVerifierKeyError, match="does not match its name and key"
    ) as caught:
        Verifier.from_vkey(f"{name}+{key_id}+{other}")
    assert caught.value.found == key_id


def test_other_key_with_the_same_name_is_unknown() -> None:
    impostor = generate_signer("example.com/foo").verifier()
    with pytest.raises(UnknownKeyError, match="not signed by any known key"):
        open_note(EXAMPLE_NOTE, [impostor])


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("", "invalid key name"),
        ("example.com/foo", "not 8 lowercase hex digits"),
        ("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase hex"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l", "does not match"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=", "base64"),
        ("example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "not an Ed25519"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv", "wrong size"),
        ("example.com/foo+530d903a+", "not an Ed25519 key .*no key"),
        ("example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "invalid key name"),
        (EXAMPLE_VKEY + "\n", "base64"),
    ],
)
def test_malformed_verifier_keys(vkey: str, message: str) -> None:
    with pytest.raises(MalformedVerifierKeyError, match=message):
        Verifier.from_vkey(vkey)


def test_vkey_round_trip() -> None:
    signer = generate_signer("school.example/log-2025")
    verifier = Verifier.from_vkey(signer.vkey)
    assert verifier == signer.verifier()
    assert verifier.vkey == signer.vkey
    assert signer.vkey.startswith(f"school.example/log-2025+{signer.key_id.hex()}+")


def test_note_round_trip_with_several_signatures() -> None:
    log, witness, stranger = (
        generate_signer("school.example/log"),
        generate_signer("district.example/witness"),
        generate_signer("elsewhere.example/w"),
    )
    text = "first line\n\nafter a blank line — with a dash\n"
    note = sign_note(text, [log, witness, stranger])
    assert note.startswith(text + "\n\u2014 school.example/log ")
    assert note.count("\n\u2014 ") == 3
    opened = open_note(note, [log.verifier(), witness.verifier()])
    assert opened.text == text
    assert set(opened.signatures) == {"school.example/log", "district.example/witness"}
    assert [s.name for s in opened.unverified] == ["elsewhere.example/w"]
    assert open_note(note, [witness.verifier()]).text == text


def test_a_bad_signature_by_a_known_key_rejects_the_note() -> None:
    log, witness = generate_signer("log.example/a"), generate_signer("witness.example/b")
    good = sign_note("text\n", [log, witness])
    forged_line = sign_note("other\n", [witness]).split("\n\n")[1]
    forged = good.rsplit("\u2014 witness.example/b", 1)[0] + forged_line
    assert open_note(forged, [log.verifier()]).text == "text\n"  # unknown keys are ignored
    with pytest.raises(SignatureError, match=r"witness\.example/b .* does not verify") as caught:
        open_note(forged, [log.verifier(), witness.verifier()])
    assert caught.value.where == "signature line 2"


def test_repeated_signature_lines_are_all_checked() -> None:
    log = generate_signer("log.example/a")
    note = sign_note("text\n", [log, log])
    opened = open_note(note, [log.verifier()])
    assert list(opened.signatures) == ["log.example/a"]


def test_no_known_key_lists_what_was_expected_and_found() -> None:
    log = generate_signer("log.example/a")
    other = generate_signer("log.example/b")
    with pytest.raises(UnknownKeyError, match="not signed by any known key") as caught:
        open_note(sign_note("text\n", [log]), [other.verifier()])
    assert caught.value.expected == f"log.example/b+{other.key_id.hex()}"
    assert caught.value.found == f"log.example/a+{log.key_id.hex()}"
    with pytest.raises(UnknownKeyError, match="expected none"):
        open_note(sign_note("text\n", [log]), [])


SIGNER = Ed25519Signer("log.example/fixed", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
GOOD = sign_note("text\n", [SIGNER])
SIGNATURE_LINE = GOOD.split("\n\n")[1]


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("text\n", "no blank line before its signatures"),
        ("text\n\n", "does not end with a signature line"),
        ("text\n\n" + SIGNATURE_LINE.rstrip("\n"), "does not end with a signature line"),
        ("text\n\n" + SIGNATURE_LINE + "\n", "does not end with a signature line"),
        ("text\n\n- " + SIGNATURE_LINE[2:], "does not start with an em dash"),
        ("text\n\n\u2014  " + SIGNATURE_LINE[2:], "invalid key name ''"),
        ("text\n\n\u2014 log.example/fixed\n", "invalid key name"),
        ("text\n\n\u2014 a+b " + SIGNATURE_LINE.split(" ")[2], "invalid key name 'a\\+b'"),
        ("text\n\n\u2014 log.example/fixed AAAA\n", "shorter than a key ID and one byte"),
        ("text\n\n\u2014 log.example/fixed AAAAAAB=\n", "non-canonical base64"),
        ("text\n\n\u2014 log.example/fixed ****\n", "not base64"),
        ("te\txt\n" + GOOD[5:], "control character '\\\\t'"),
        ("te\rxt\n" + GOOD[5:], "control character '\\\\r'"),
        ("text\ud800\n" + GOOD[5:], "not valid Unicode"),
        ("text\n\n" + SIGNATURE_LINE * (MAX_SIGNATURES + 1), "too many signature lines"),
    ],
)
def test_malformed_notes(note: str, message: str) -> None:
    with pytest.raises(MalformedNoteError, match=message):
        open_note(note, [SIGNER.verifier()])


def test_note_bytes_must_be_utf8() -> None:
    with pytest.raises(MalformedNoteError, match="not UTF-8"):
        open_note(b"caf\xe9\n\n" + SIGNATURE_LINE.encode(), [SIGNER.verifier()])


def test_up_to_the_limit_of_signatures_is_accepted() -> None:
    note = "text\n\n" + SIGNATURE_LINE * MAX_SIGNATURES
    assert len(open_note(note, [SIGNER.verifier()]).signatures) == 1
    assert len(split_note(note)[1]) == MAX_SIGNATURES


def test_sign_note_refuses_bad_text_and_signers() -> None:
    with pytest.raises(MalformedNoteError, match="must end with a newline"):
        sign_note("text", [SIGNER])
    with pytest.raises(MalformedNoteError, match="control character"):
        sign_note("a\x00b\n", [SIGNER])
    with pytest.raises(ValueError, match="at least one signer"):
        sign_note("text\n", [])
    with pytest.raises(ValueError, match="more than 100 signers"):
        sign_note("text\n", [SIGNER] * (MAX_SIGNATURES + 1))


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "tab\there", "nul\x00"])
def test_invalid_key_names(name: str) -> None:
    assert not is_valid_key_name(name)
    with pytest.raises(ValueError, match="invalid key name"):
        generate_signer(name)


def test_valid_key_names() -> None:
    assert is_valid_key_name("example.com/foo")
    assert is_valid_key_name("школа.example/журнал")


def test_two_different_verifiers_for_one_key_id_are_refused() -> None:
    real = Verifier.from_vkey(EXAMPLE_VKEY)

    class Impostor:
        name = real.name
        key_id = real.key_id

        def verify(self, message: bytes, signature: bytes) -> bool:
            return True

    with pytest.raises(ValueError, match=r"two verifiers for key example\.com/foo 530d903a"):
        open_note(EXAMPLE_NOTE, [real, Impostor()])
