"""The canonical leaf: round trips, strict decoding, and the known-answer example that
``docs/ledger-format.md`` reproduces byte for byte."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ejournal.integrity.leaf import (
    CHAIN_GENESIS,
    LEAF_MAGIC,
    Leaf,
    LeafFormatError,
    LogLeafEncoder,
    chain_hash,
    decode_leaf,
    encode_leaf,
    from_micros,
    leaf_hash,
    micros,
)
from ejournal.integrity.rfc6962 import hash_leaf

KNOWN_PAYLOAD = b'{"mark":"5","student_id":"3f2c6a1e-5b7d-4c8e-9a0f-1b2c3d4e5f60"}'

KNOWN_LEAF = Leaf(
    log_id="school-0042/2025-2026",
    index=7,
    originator_id=UUID("0190f5a2-7c1e-7a3b-9d2e-4f5a6b7c8d9e"),
    originator_version=3,
    topic="ledger.journal:ClassJournal.MarkRecorded",
    recorded_at=micros(datetime(2025, 9, 1, 8, 30, 15, 123456, tzinfo=UTC)),
    actor_id=UUID("7d1b2c3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
    actor_role="teacher",
    credential_version=2,
    session_id=UUID("c4a1e2f3-b5d6-4e7f-8091-a2b3c4d5e6f7"),
    payload_sha256=hashlib.sha256(KNOWN_PAYLOAD).digest(),
)

KNOWN_PAYLOAD_SHA256 = "aeb255c5a07062e6c21678f475a5e504e14a8095d68bcf124c8807056a1048a0"

KNOWN_LEAF_HEX = "".join(
    [
        "454a4c31",  # "EJL1"
        "0015" + "7363686f6f6c2d303034322f323032352d32303236",  # log_id (21 bytes)
        "0000000000000007",  # index
        "0190f5a27c1e7a3b9d2e4f5a6b7c8d9e",  # originator_id
        "0000000000000003",  # originator_version
        "0028",  # topic (40 bytes) "ledger.journal:ClassJournal.MarkRecorded"
        "6c65646765722e6a6f75726e616c3a436c6173734a6f75726e616c2e4d61726b5265636f72646564",
        "00063db92e4a3600",  # recorded_at: 1756715415123456 µs = 2025-09-01T08:30:15.123456Z
        "7d1b2c3a4e5f4a6b8c7d9e0f1a2b3c4d",  # actor_id
        "0007" + "74656163686572",  # actor_role "teacher"
        "00000002",  # credential_version
        "c4a1e2f3b5d64e7f8091a2b3c4d5e6f7",  # session_id
        KNOWN_PAYLOAD_SHA256,  # payload_sha256
    ]
)
KNOWN_LEAF_HASH = "70ddb9854670cad661d56c9215762ef43a439674b2252f9704a32251c4a98498"
KNOWN_CHAIN_HASH = "66112a65d2b47aa34b4de9c813914db4ce1ee54196aca695d1e2b5042f081db7"


def test_known_answer_leaf() -> None:
    encoded = encode_leaf(KNOWN_LEAF)
    assert KNOWN_LEAF.payload_sha256.hex() == KNOWN_PAYLOAD_SHA256
    assert KNOWN_LEAF.recorded_at == 1_756_715_415_123_456
    assert len(encoded) == 186
    assert encoded.hex() == KNOWN_LEAF_HEX
    assert leaf_hash(encoded).hex() == KNOWN_LEAF_HASH
    assert hash_leaf(encoded).hex() == KNOWN_LEAF_HASH
    assert chain_hash(CHAIN_GENESIS, leaf_hash(encoded)).hex() == KNOWN_CHAIN_HASH
    assert decode_leaf(bytes.fromhex(KNOWN_LEAF_HEX)) == KNOWN_LEAF


def test_chain_hash_definition() -> None:
    assert bytes(32) == CHAIN_GENESIS
    digest = leaf_hash(encode_leaf(KNOWN_LEAF))
    assert chain_hash(CHAIN_GENESIS, digest) == hashlib.sha256(bytes(32) + digest).digest()


_uuids = st.uuids()
_text = st.text(max_size=40)

leaves = st.builds(
    Leaf,
    log_id=_text,
    index=st.integers(0, 2**64 - 1),
    originator_id=_uuids,
    originator_version=st.integers(0, 2**64 - 1),
    topic=_text,
    recorded_at=st.integers(-(2**63), 2**63 - 1),
    actor_id=_uuids,
    actor_role=_text,
    credential_version=st.integers(0, 2**32 - 1),
    session_id=_uuids,
    payload_sha256=st.binary(min_size=32, max_size=32),
)


@settings(max_examples=200, deadline=None)
@given(leaf=leaves)
def test_leaf_round_trip(leaf: Leaf) -> None:
    assert decode_leaf(encode_leaf(leaf)) == leaf


def _fast_encode(leaf: Leaf, encoder: LogLeafEncoder | None = None) -> bytes:
    return (encoder or LogLeafEncoder(leaf.log_id)).encode(
        leaf.index,
        leaf.originator_id.bytes,
        leaf.originator_version,
        leaf.topic,
        leaf.recorded_at,
        leaf.actor_id.bytes,
        leaf.actor_role,
        leaf.credential_version,
        leaf.session_id.bytes,
        leaf.payload_sha256,
    )


@settings(max_examples=200, deadline=None)
@given(leaf=leaves)
def test_log_leaf_encoder_matches_encode_leaf(leaf: Leaf) -> None:
    encoder = LogLeafEncoder(leaf.log_id)
    assert _fast_encode(leaf, encoder) == encode_leaf(leaf)
    assert _fast_encode(leaf, encoder) == encode_leaf(leaf)  # again, from the cached texts


def test_log_leaf_encoder_known_answer_and_errors() -> None:
    assert _fast_encode(KNOWN_LEAF).hex() == KNOWN_LEAF_HEX
    with pytest.raises(LeafFormatError, match="payload digest 32 bytes"):
        _fast_encode(_with(payload_sha256=bytes(31)))
    with pytest.raises(LeafFormatError, match="leaf field out of range"):
        _fast_encode(_with(index=-1))
    with pytest.raises(LeafFormatError, match="leaf field out of range"):
        _fast_encode(_with(credential_version=2**32))


def test_micros_round_trip() -> None:
    moment = datetime(2025, 9, 1, 8, 30, 15, 123456, tzinfo=UTC)
    assert from_micros(micros(moment)) == moment
    eastern = moment.astimezone(timezone(timedelta(hours=3)))
    assert micros(eastern) == micros(moment)
    assert from_micros(-1) == datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_naive_time_is_refused() -> None:
    with pytest.raises(LeafFormatError, match="must be timezone-aware"):
        micros(datetime(2025, 9, 1, 8, 30))


def _with(**changes: object) -> Leaf:
    fields = {name: getattr(KNOWN_LEAF, name) for name in Leaf.__dataclass_fields__}
    return Leaf(**(fields | changes))


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        (_with(payload_sha256=bytes(31)), "payload digest must be 32 bytes"),
        (_with(index=-1), "leaf field out of range"),
        (_with(originator_version=2**64), "leaf field out of range"),
        (_with(credential_version=2**32), "leaf field out of range"),
        (_with(recorded_at=2**63), "leaf field out of range"),
        (_with(topic="x" * 65536), "topic is longer than 65535 bytes"),
        (_with(log_id="я" * 32768), "log id is longer than 65535 bytes"),
    ],
)
def test_unencodable_leaves(leaf: Leaf, message: str) -> None:
    with pytest.raises(LeafFormatError, match=message):
        encode_leaf(leaf)


KNOWN = bytes.fromhex(KNOWN_LEAF_HEX)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "leaf truncated at byte 0"),
        (b"EJL2" + KNOWN[4:], "not an EJL1 leaf"),
        (KNOWN[:-1], "leaf truncated at byte 134"),
        (KNOWN[:10], "leaf truncated at byte 6"),
        (KNOWN + b"\x00", "1 trailing bytes after leaf"),
        (LEAF_MAGIC + b"\x00\x02\xff\xfe" + KNOWN[27:], "log id is not UTF-8"),
    ],
)
def test_malformed_leaf_bytes(data: bytes, message: str) -> None:
    with pytest.raises(LeafFormatError, match=message):
        decode_leaf(data)
