"""An independent reader of tiled logs, written from the C2SP specifications alone.

It imports nothing of ejournal: its own tile paths (tlog-tiles: "index 1234067 will be encoded as
x001/x234/067"), its own RFC 6962 Merkle Tree Hash from hashlib (recursive, as RFC 6962 §2.1 states
it), its own checkpoint parsing (tlog-checkpoint) and signed-note verification (signed-note,
Ed25519 through ``cryptography``). It checks every tile against the spec's formula
``MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])`` computed from the entries, and
that the directory holds exactly the files the spec requires for the checkpoint's size. It is
deliberately naive: the product's verifier is checked against it, never the other way round.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

WIDTH = 256


class ReaderError(Exception):
    pass


def spec_index(n: int) -> str:
    """tlog-tiles: zero-padded 3-digit path elements, all but the last beginning with x."""
    elements = []
    while True:
        elements.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    elements.reverse()
    return "/".join(["x" + element for element in elements[:-1]] + [elements[-1]])


def spec_path(level: str | int, n: int, width: int) -> str:
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{spec_index(n)}{suffix}"


def mth(leaf_hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1, by its recursive definition over already-hashed leaves."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < len(leaf_hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaf_hashes[:k]) + mth(leaf_hashes[k:])).digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


@dataclass
class Read:
    origin: str
    size: int
    root: bytes
    entries: list[bytes]
    extra: set[str]
    """Files in the directory that the spec does not ask for at this size."""


def _vkey(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    name, key_hash, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    if raw[0] != 1:
        raise ReaderError("not an Ed25519 verifier key")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != key_hash:
        raise ReaderError("verifier key hash does not match")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def read_checkpoint(note: bytes, vkey: str) -> tuple[str, int, bytes]:
    """signed-note: text, a blank line, signature lines "— name base64(key ID ‖ signature)"."""
    text, separator, signatures = note.decode("utf-8").rpartition("\n\n")
    if not separator:
        raise ReaderError("no signature block")
    text += "\n"
    name, key_id, public_key = _vkey(vkey)
    verified = False
    for line in signatures.rstrip("\n").split("\n"):
        signer, encoded = line.removeprefix("\u2014 ").split(" ")
        blob = base64.b64decode(encoded)
        if signer == name and blob[:4] == key_id:
            try:
                public_key.verify(blob[4:], text.encode("utf-8"))
            except InvalidSignature as e:
                raise ReaderError("bad signature") from e
            verified = True
    if not verified:
        raise ReaderError("not signed by the trusted key")
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


def read_tiled_log(directory: Path, vkey: str) -> Read:
    """Every check the spec allows, from the files alone; raises ``ReaderError``."""
    origin, size, root = read_checkpoint((directory / "checkpoint").read_bytes(), vkey)
    entries: list[bytes] = []
    for n in range((size + WIDTH - 1) // WIDTH):
        width = min(WIDTH, size - n * WIDTH)
        data = (directory / spec_path("entries", n, width)).read_bytes()
        position = 0
        while position < len(data):
            length = int.from_bytes(data[position : position + 2], "big")
            entries.append(data[position + 2 : position + 2 + length])
            position += 2 + length
        if position != len(data) or len(entries) != n * WIDTH + width:
            raise ReaderError(f"bundle {n} is malformed")
    hashes = [leaf_hash(entry) for entry in entries]
    expected_files = {"checkpoint"}
    level = 0
    while size >> (8 * level) > 0:
        span = WIDTH**level
        full, partial = size // (span * WIDTH), (size // span) % WIDTH
        for n in range(full + (1 if partial else 0)):
            width = WIDTH if n < full else partial
            path = spec_path(level, n, width)
            expected_files.add(path)
            if level == 0:
                expected_files.add(spec_path("entries", n, width))
            tile = (directory / path).read_bytes()
            want = b"".join(
                mth(hashes[(n * WIDTH + i) * span : (n * WIDTH + i + 1) * span])
                for i in range(width)
            )
            if tile != want:
                raise ReaderError(f"{path} differs from the spec's formula")
        level += 1
    if mth(hashes) != root:
        raise ReaderError("the root is not the checkpoint's")
    files = {
        path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()
    }
    return Read(origin, size, root, entries, files - expected_files)
