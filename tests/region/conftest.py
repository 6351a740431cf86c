"""A region on the test clusters: the directory database on the main server, a database on each
shard (tests/clusters.py), and schools built through the commands on their servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.placement import Region
from tests import clusters
from tests.databases import create_pg_database, drop_pg_database

SERVERS = ("shard1", "shard2")


@pytest.fixture
def region_urls(pg_clusters: None) -> Iterator[tuple[str, dict[str, str]]]:
    """New databases: the directory's URL, and each shard's by its server name."""
    directory_url = create_pg_database()
    shard_urls = [create_pg_database(admin_url=admin) for admin in clusters.SHARD_URLS]
    try:
        yield directory_url, dict(zip(SERVERS, shard_urls, strict=True))
    finally:
        drop_pg_database(directory_url)
        for url, admin in zip(shard_urls, clusters.SHARD_URLS, strict=True):
            drop_pg_database(url, admin_url=admin)


@pytest.fixture
def region(region_urls: tuple[str, dict[str, str]], clock: ManualClock) -> Iterator[Region]:
    directory_url, servers = region_urls
    directory = Ledger(database_url=directory_url, clock=clock)
    region = Region(directory, servers)
    try:
        yield region
    finally:
        region.close()
        directory.close()
