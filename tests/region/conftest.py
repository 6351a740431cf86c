"""A region on the test clusters: the directory database on the main server, a database on each
shard (tests/clusters.py), and schools built through the commands on their servers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.api.bootstrap import Services, bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.placement import Region
from ejournal.ledger.settings import Settings
from tests import clusters
from tests.api.conftest import QUICK_HASHING
from tests.commands.school import START, TestSchool, build_school
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


def region_env(urls: tuple[str, dict[str, str]], secret: str) -> dict[str, str]:
    """The environment of the ``ejournal`` commands over the region of ``region_urls``."""
    directory_url, servers = urls
    return {
        "EJOURNAL_DATABASE_URL": directory_url,
        "EJOURNAL_SERVERS": ",".join(f"{name}={url}" for name, url in servers.items()),
        "EJOURNAL_KEY_PASSPHRASE": secret,
    }


def serve(
    settings: Settings, *, environ: Mapping[str, str] | None = None, follow: bool = True
) -> Services:
    """The server's services over ``settings``, as ``bootstrap`` wires them, with a vault (and
    ``environ``'s settings) and the tests' cheap password hashing; the clock stands at the test
    school's start. ``follow=False``: the test drives the projectors and the mail itself."""
    return bootstrap(
        settings,
        clock=ManualClock(START),
        environ={VAULT_KEY_VARIABLE: new_key(), **(environ or {})},
        hashing=QUICK_HASHING,
        follow=follow,
    )


def teach_maths_in(
    two: TestSchool, teacher: Actor, person_id: UUID, ledgers: Region | Services
) -> None:
    """``teacher`` (of another school) teaches mathematics in ``two``'s 5«А» too: a grant in
    the directory, an assignment on ``two``'s server."""
    directory = ledgers.directory if isinstance(ledgers, Region) else ledgers.ledger
    c.handle(
        c.GrantRole(
            actor=two.head,
            account_id=teacher.account_id,
            role=Role.TEACHER,
            school_id=two.school_id,
        ),
        directory,
    )
    c.handle(
        c.AssignTeacher(
            actor=two.head,
            roster_id=two.class_id,
            subject_id=two.subjects["Математика"],
            teacher_id=person_id,
            on=date(2025, 9, 1),
        ),
        server.ledger
        if isinstance(server := ledgers.for_school(two.school_id), Services)
        else server,
    )


def school_built_on(
    urls: tuple[str, dict[str, str]], clock: ManualClock, server: str, *, place: bool
) -> TestSchool:
    """The test school built through the commands on ``server`` of the region of
    ``region_urls`` (placed there if ``place``), its ledgers closed again: for tests of the
    ``ejournal`` commands, which open their own."""
    directory_url, servers = urls
    directory = Ledger(database_url=directory_url, clock=clock)
    region = Region(directory, servers)
    try:
        school = build_school(region.ledger(server))
        if place:
            region.place(school.school_id, server)
        return school
    finally:
        region.close()
        directory.close()
