"""``benchmarks/region.py``: a tiny district on one server and over the three test clusters
prints its table and the roots it found equal, and drops its databases; the check of the roots
fails loudly for a log signed on one side only, on two servers, or with another root. The run
writes in two processes: with ``tests/region/`` it is the test of the generator over a region."""

from __future__ import annotations

import sys
import uuid

import psycopg
import pytest

from benchmarks import region
from tests import clusters
from tests.databases import PG_ADMIN_URL


def _databases(admin_url: str) -> set[str]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_a_tiny_region_prints_its_table_and_drops_its_databases(
    pg_clusters: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"ejournal_region_test_{uuid.uuid4().hex[:8]}"
    argv = ["region.py", "--schools", "2", "--weeks", "1", "--parallels", "1", "--jobs", "2"]
    monkeypatch.setattr(sys, "argv", [*argv, "--database", name])
    region.main()
    out = capsys.readouterr().out
    # 2 schools' year logs and the system log, signed alike on one server and in the region.
    assert "roots equal: 3 logs" in out
    lines = out.splitlines()
    table = lines[lines.index(region.HEADER) + 1 :]
    stages = [(line[:12].strip(), line[13:27].strip()) for line in table[:9]]
    assert stages == [
        ("generate", "one server"),
        ("generate", "region"),
        ("project", "one server"),
        ("project", "region"),
        ("project", "region, ∥"),
        ("checkpoint", "one server"),
        ("checkpoint", "region"),
        ("verify", "one server"),
        ("verify", "region"),
    ]
    assert sum(1 for line in lines if "_shard" in line and "region 127.0.0.1" in line) == 2
    for admin in (PG_ADMIN_URL, *clusters.SHARD_URLS):
        assert not any(db.startswith(name) for db in _databases(admin))


def test_roots_that_differ_fail_the_run() -> None:
    one = {"system": (3, "aa"), "school/1/2025-2026": (10, "bb")}
    assert region.compare_roots(one, dict(one)) == 2
    with pytest.raises(region.RootsDiffer, match=r"1 logs differ, e\.g\. school/1/2025-2026"):
        region.compare_roots(one, {**one, "school/1/2025-2026": (10, "cc")})
    with pytest.raises(region.RootsDiffer, match=r"signed on one side only, e\.g\. system"):
        region.compare_roots(one, {"school/1/2025-2026": (10, "bb")})
    with pytest.raises(region.RootsDiffer, match="signed no log"):
        region.compare_roots({}, {})
    parts = [{"roots": {"system": (3, "aa")}}, {"roots": {"system": (3, "aa")}}]
    with pytest.raises(region.RootsDiffer, match=r"1 logs signed on two servers, e\.g\. system"):
        region.roots_of({"parts": parts})
