"""Tiles export and verification throughput (C2SP tlog-tiles), beside raw hashlib.

Builds a ledger of N entries (default 200,000) in one school-year log on SQLite and on PostgreSQL
(100 events per save, through `Ledger.record`), signs a checkpoint, then measures:
  * raw hashlib: SHA-256(0x00 ‖ leaf) of every leaf, and the SHA-256 of every interior node of the
    tiles (256 leaf hashes at a time), over the same leaves held in memory — the floor any tiles
    writer pays;
  * export: `ledger.tiles.export_tiles` from the database into a new directory (rows streamed,
    leaves recomputed and checked, every tile and bundle written, moved into place): entries/s;
  * verify: `integrity.tiles.verify_tiles` of that directory, files only: entries/s.
Prints the ratios to the anchor.

    .venv/bin/python benchmarks/tiles.py [--entries 200000] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.verify import ORIGIN, build, databases
from ejournal.integrity.tiles import TILE_WIDTH, decode_bundle, verify_tiles
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import latest_checkpoints
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.tiles import export_tiles


def raw_hashlib(leaves: list[bytes]) -> float:
    """Seconds to hash every leaf and the interior nodes of its tiles with bare hashlib."""
    sha256 = hashlib.sha256
    started = time.perf_counter()
    level = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        level = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
    return time.perf_counter() - started


def leaves_of(directory: Path, size: int) -> list[bytes]:
    leaves: list[bytes] = []
    for path in sorted((directory / "tile/entries").rglob("*")):
        if path.is_file():
            width = int(path.name) if path.parent.name.endswith(".p") else TILE_WIDTH
            leaves += decode_bundle(path.read_bytes(), width)
    assert len(leaves) == size, (len(leaves), size)
    return leaves


def measure(database_url: str, log_id: str, folder: Path) -> dict[str, float]:
    ledger = Ledger(database_url=database_url)
    try:
        verifiers = KeyStore(ledger.database).verifiers()
        [checkpoint] = latest_checkpoints(ledger.database, log_id)
        started = time.perf_counter()
        exported = export_tiles(
            ledger.database, checkpoint, folder, verifiers=verifiers, origin=ORIGIN
        )
        export_seconds = time.perf_counter() - started
    finally:
        ledger.close()
    started = time.perf_counter()
    verified = verify_tiles(folder, verifiers)
    verify_seconds = time.perf_counter() - started
    assert verified.checkpoint.size == exported.size
    raw_seconds = raw_hashlib(leaves_of(folder, exported.size))
    return {
        "entries": exported.size,
        "files": exported.files,
        "hashlib_entries_per_s": round(exported.size / raw_seconds),
        "export_entries_per_s": round(exported.size / export_seconds),
        "export_ratio": round(raw_seconds / export_seconds, 3),
        "verify_entries_per_s": round(exported.size / verify_seconds),
        "verify_ratio": round(raw_seconds / verify_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    log_id = "school/00000000-0000-0000-0000-000000000001/2025-2026"
    results = {}
    for kind in ("sqlite", "postgres"):
        if args.only and kind != args.only:
            continue
        print(f"{kind}:", flush=True)
        (_, url), drop = databases(kind, args.pg)
        folder = Path(tempfile.mkdtemp(prefix="ejournal-tiles-"))
        try:
            build(url, args.entries, log_id)
            results[kind] = measure(url, log_id, folder / "log")
        finally:
            drop()
            shutil.rmtree(folder, ignore_errors=True)
        print(f"  {json.dumps(results[kind])}", flush=True)
    print(
        f"{'database':<10} {'hashlib e/s':>12} {'export e/s':>11} {'ratio':>6} "
        f"{'verify e/s':>11} {'ratio':>6}"
    )
    for kind, r in results.items():
        print(
            f"{kind:<10} {r['hashlib_entries_per_s']:>12,} {r['export_entries_per_s']:>11,} "
            f"{r['export_ratio']:>6.2f} {r['verify_entries_per_s']:>11,} {r['verify_ratio']:>6.2f}"
        )


if __name__ == "__main__":
    main()
