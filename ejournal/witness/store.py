"""A witness's own state: its key file and an SQLite database of what it cosigned.

The witness keeps every checkpoint it cosigned (``cosigned``), one row per origin and size, so it
can never cosign two roots at one size; the latest per origin is the row of the largest size. It
also keeps the checkpoints it refused although a trusted log key signed them (``refused``): an
inconsistent one is evidence that the log forked, for whoever asks the witness's operator.

The database belongs to the witness alone, not to any school's service: a district runs it on its
own machine. Checking the old size and recording the new checkpoint happen in one ``BEGIN
IMMEDIATE`` transaction, so two concurrent submissions cannot roll the log back (tlog-witness,
*add-checkpoint*).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.cosignature import COSIGNATURE_V1_TYPE, CosignatureSigner

KEY_FILE = "witness.key"
DATABASE_FILE = "witness.db"
_KEY_PREFIX = "PRIVATE+KEY+"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS cosigned (
        origin TEXT NOT NULL,
        size INTEGER NOT NULL,
        root_hash BLOB NOT NULL,
        note TEXT NOT NULL,
        cosignature TEXT NOT NULL,
        cosigned_at INTEGER NOT NULL,
        PRIMARY KEY (origin, size)
    )""",
    """CREATE TABLE IF NOT EXISTS refused (
        origin TEXT NOT NULL,
        size INTEGER NOT NULL,
        note TEXT NOT NULL,
        reason TEXT NOT NULL,
        refused_at INTEGER NOT NULL
    )""",
)


class WitnessStateError(RuntimeError):
    """The witness's directory has no key, a malformed key, or already has one."""


@dataclass(frozen=True, slots=True)
class Cosigned:
    """A checkpoint the witness cosigned: the log's note and the witness's signature line."""

    origin: str
    size: int
    root_hash: bytes
    note: str
    cosignature: str

    @property
    def cosigned_note(self) -> str:
        return self.note + self.cosignature


def create_key(directory: Path, name: str) -> CosignatureSigner:
    """Generate the witness's key in ``directory`` (mode 0600) and return its cosigner.

    Raises ``WitnessStateError`` if the directory already has a key, ``ValueError`` for a name a
    note cannot carry.
    """
    private_key = Ed25519PrivateKey.generate()
    signer = CosignatureSigner(name, private_key)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if path.exists():
        raise WitnessStateError(f"{path} exists: a witness keeps its key for life")
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    material = b64encode(bytes((COSIGNATURE_V1_TYPE,)) + seed)
    path.touch(mode=0o600)
    path.write_text(f"{_KEY_PREFIX}{name}+{signer.key_id.hex()}+{material}\n", encoding="ascii")
    return signer


def load_key(directory: Path) -> CosignatureSigner:
    """The witness's cosigner from ``directory``. Raises ``WitnessStateError`` if there is no key
    or it is malformed."""
    path = directory / KEY_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise WitnessStateError(f"no witness key at {path}: run `ejournal witness init`") from e
    name, _, rest = text.removeprefix(_KEY_PREFIX).partition("+")
    hex_id, _, encoded = rest.partition("+")
    try:
        material = b64decode(encoded)
        if not text.startswith(_KEY_PREFIX) or material[:1] != bytes((COSIGNATURE_V1_TYPE,)):
            raise ValueError("not a cosigner key")
        signer = CosignatureSigner(name, Ed25519PrivateKey.from_private_bytes(material[1:]))
    except ValueError as e:
        raise WitnessStateError(f"malformed witness key {path}: {e}") from e
    if signer.key_id.hex() != hex_id:
        raise WitnessStateError(f"malformed witness key {path}: its key ID does not match")
    return signer


class WitnessStore:
    """The cosigned and refused checkpoints, in ``directory/witness.db``."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / DATABASE_FILE
        with closing(self._connect()) as connection, connection:
            for statement in _SCHEMA:
                connection.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # persisted before the answer, as asked
        return connection

    @contextmanager
    def transaction(self) -> Iterator[WitnessTransaction]:
        """One ``BEGIN IMMEDIATE`` transaction: committed if the block ends, rolled back if it
        raises."""
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield WitnessTransaction(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def latest_all(self, prefix: str = "") -> list[Cosigned]:
        """The latest cosigned checkpoint of every origin that starts with ``prefix``."""
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT origin, size, root_hash, note, cosignature FROM cosigned AS c "
                "WHERE substr(origin, 1, ?) = ? AND size = "
                "(SELECT MAX(size) FROM cosigned WHERE origin = c.origin) ORDER BY origin",
                (len(prefix), prefix),
            ).fetchall()
        return [Cosigned(*row) for row in rows]


class WitnessTransaction:
    """Reads and writes inside one ``WitnessStore.transaction``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def latest(self, origin: str) -> Cosigned | None:
        row = self._connection.execute(
            "SELECT origin, size, root_hash, note, cosignature FROM cosigned "
            "WHERE origin = ? ORDER BY size DESC LIMIT 1",
            (origin,),
        ).fetchone()
        return Cosigned(*row) if row else None

    def record(self, cosigned: Cosigned) -> None:
        self._connection.execute(
            "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?, ?)",
            (
                cosigned.origin,
                cosigned.size,
                cosigned.root_hash,
                cosigned.note,
                cosigned.cosignature,
                int(time.time()),
            ),
        )

    def refuse(self, origin: str, size: int, note: str, reason: str) -> None:
        self._connection.execute(
            "INSERT INTO refused VALUES (?, ?, ?, ?, ?)",
            (origin, size, note, reason, int(time.time())),
        )
