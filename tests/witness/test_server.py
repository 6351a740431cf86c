"""Two real ``ejournal witness`` processes speaking C2SP tlog-witness on local ports: they cosign
what is consistent, refuse what is not, and keep their state across a restart."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ejournal.integrity.checkpoint import Checkpoint, sign_checkpoint
from ejournal.integrity.note import Ed25519Signer, generate_signer
from ejournal.integrity.proof import consistency_proof
from ejournal.integrity.rfc6962 import hash_leaf, root_of
from tests.integrity.test_cosignature import spec_verify
from tests.witness.processes import WitnessProcess


def post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def latest(url: str, origin: str) -> str:
    with urllib.request.urlopen(f"{url}/checkpoints?origin={origin}", timeout=10) as answer:
        return str(answer.read().decode())


class Log:
    """A log's leaves, signed checkpoints and consistency proofs, built in the test."""

    def __init__(self, origin: str, signer: Ed25519Signer, leaves: list[bytes]) -> None:
        self.origin, self.signer = origin, signer
        self.hashes = [hash_leaf(leaf) for leaf in leaves]

    def body(self, size: int) -> str:
        return Checkpoint(self.origin, size, root_of(self.hashes[:size])).to_body()

    def note(self, size: int) -> str:
        return sign_checkpoint(Checkpoint.from_body(self.body(size)), [self.signer])

    def request(self, old: int, size: int) -> bytes:
        proof = consistency_proof(old, size, self.hashes) if old else []
        lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof), ""]
        return ("\n".join(lines) + "\n" + self.note(size)).encode()


def leaves(count: int, changed: int | None = None) -> list[bytes]:
    return [f"mark {i}{' changed' if i == changed else ''}".encode() for i in range(count)]


def public_key(witness: WitnessProcess) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(witness.vkey.split("+", 2)[2])[1:])


def test_both_witnesses_cosign_a_consistent_log(
    witnesses: list[WitnessProcess], log_signer: Ed25519Signer, fresh_origin: str
) -> None:
    log = Log(fresh_origin, log_signer, leaves(20))
    for witness in witnesses:
        name = witness.vkey.split("+")[0]
        status, kind, answer = post(witness.url, log.request(0, 3))
        assert (status, kind) == (200, "text/plain; charset=utf-8")
        assert spec_verify(answer.decode(), log.body(3), name, public_key(witness)) > 0
        status, _, answer = post(witness.url, log.request(3, 17))
        assert status == 200
        assert spec_verify(answer.decode(), log.body(17), name, public_key(witness)) > 0
        # It serves the latest it cosigned: the log's note with its cosignature line.
        served = latest(witness.url, fresh_origin)
        assert served.startswith(log.note(17)) and served.endswith(answer.decode())


def test_a_fork_is_refused_at_the_same_and_at_a_larger_size(
    witnesses: list[WitnessProcess], log_signer: Ed25519Signer, fresh_origin: str
) -> None:
    honest = Log(fresh_origin, log_signer, leaves(12))
    forked = Log(fresh_origin, log_signer, leaves(12, changed=2))  # one mark changed, re-signed
    for witness in witnesses:
        assert post(witness.url, honest.request(0, 8))[0] == 200
        assert post(witness.url, forked.request(8, 8)) == (409, "text/x.tlog.size", b"8\n")
        status, _, answer = post(witness.url, forked.request(8, 12))
        assert status == 422
        assert b"not consistent with size 8" in answer
        assert latest(witness.url, fresh_origin).startswith(honest.note(8))
        # The same checkpoint again is cosigned again: it is what the witness holds.
        assert post(witness.url, honest.request(8, 8))[0] == 200


def test_a_checkpoint_by_an_unknown_key_or_of_an_unknown_log_is_refused(
    witnesses: list[WitnessProcess], fresh_origin: str
) -> None:
    impostor = Log(fresh_origin, generate_signer("ejournal.test"), leaves(4))
    elsewhere = Log("other.example/log", generate_signer("other.example"), leaves(4))
    for witness in witnesses:
        status, _, answer = post(witness.url, impostor.request(0, 4))
        assert status == 403
        assert b"not signed by a trusted log key" in answer
        assert post(witness.url, elsewhere.request(0, 4))[:2] == (404, "text/plain; charset=utf-8")
        assert latest(witness.url, fresh_origin) == ""


def test_a_stale_old_size_gets_409_with_the_size_held(
    witnesses: list[WitnessProcess], log_signer: Ed25519Signer, fresh_origin: str
) -> None:
    log = Log(fresh_origin, log_signer, leaves(10))
    for witness in witnesses:
        assert post(witness.url, log.request(0, 5))[0] == 200
        assert post(witness.url, log.request(0, 10)) == (409, "text/x.tlog.size", b"5\n")
        assert post(witness.url, log.request(3, 10)) == (409, "text/x.tlog.size", b"5\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"old 01\n\nx", b"is not 'old <size>'"),
        (b"old 3\nnot base64\n\n", b"proof line 1"),
        (b"old 3\n", b"no empty line"),
    ],
)
def test_a_malformed_request_gets_400(
    witnesses: list[WitnessProcess], body: bytes, message: bytes
) -> None:
    status, _, answer = post(witnesses[0].url, body)
    assert status == 400
    assert message in answer


def test_an_old_size_beyond_the_checkpoint_gets_400_and_a_proof_from_zero_422(
    witnesses: list[WitnessProcess], log_signer: Ed25519Signer, fresh_origin: str
) -> None:
    log = Log(fresh_origin, log_signer, leaves(6))
    status, _, answer = post(witnesses[0].url, f"old 9\n\n{log.note(6)}".encode())
    assert (status, answer) == (400, b"old size 9 exceeds size 6\n")
    proof = base64.b64encode(bytes(32)).decode()
    status, _, answer = post(witnesses[0].url, f"old 0\n{proof}\n\n{log.note(6)}".encode())
    assert (status, answer) == (422, b"the consistency proof from size 0 must be empty\n")


def test_the_witnesses_keep_their_state_across_a_restart(
    witnesses: list[WitnessProcess], log_signer: Ed25519Signer, fresh_origin: str
) -> None:
    log = Log(fresh_origin, log_signer, leaves(9))
    for witness in witnesses:
        assert post(witness.url, log.request(0, 6))[0] == 200
        witness.stop()
        witness.start()
        assert latest(witness.url, fresh_origin).startswith(log.note(6))
        assert post(witness.url, log.request(0, 9)) == (409, "text/x.tlog.size", b"6\n")
        assert post(witness.url, log.request(6, 9))[0] == 200
