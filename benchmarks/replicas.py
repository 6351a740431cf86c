"""What reading on a hot-standby replica costs a read: the same reads with and without
``EJOURNAL_REPLICA_URLS``, in one process, taking turns in slices of 0.1 s
(or ten reads) (docs/adr/0016).

The demo school (``benchmarks.api.seed``) is recorded in a new database on a primary whose
streaming standby is ``--replica`` (by default the test clusters of ``.ci/clusters``: shard1 on
5433, its standby on 5435). Two sets of services serve it, one reading the primary only, one
reading the standby, and each row reads the same thing through each in turn:

- the diary over HTTP as a parent (the app in process, ``TestClient``), rendered already: the
  busiest read, on the event loop; with a replica it must cost what it did, since a rendered
  diary is served without the read models;
- the diary rendered afresh (``ReadModels.diary_json`` with an empty cache): what a read costs
  after a write, the read models queried on the standby;
- the class journal page (``ReadModels.class_journal``) and the summary sheet, queried on the
  standby each time.

On one machine the standby shares the cores with the primary and the server: the ratios say what
the replica's way costs a read (a round trip more, for the primary's position), not what moving
the queries to another machine gains.

    .venv/bin/python benchmarks/replicas.py [--seconds 3]
        [--primary postgresql://postgres@127.0.0.1:5433/postgres]
        [--replica postgresql://postgres@127.0.0.1:5435/postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLICE = 0.1


def compare(name: str, sides: tuple[Callable[[], Any], Callable[[], Any]], seconds: float) -> None:
    """Print the rates of the two reads, taking turns, and the primary's over the replica's: the
    median of the rounds' ratios (one slice each), with the middle half of them, so that a burst
    of other work on the machine weighs on one round rather than on one side."""
    took = 0.0
    for read in sides:
        read()  # connections opened, caches filled
        started = time.perf_counter()
        read()
        took = max(took, time.perf_counter() - started)
    turn = max(SLICE, 10 * took)  # ten reads a slice at least, or the ratios are of one or two
    counts, spent, ratios = [0, 0], [0.0, 0.0], []
    deadline = time.monotonic() + 2 * seconds
    while time.monotonic() < deadline:
        rates = []
        for side, read in enumerate(sides):
            done, started = 0, time.perf_counter()
            while (took := time.perf_counter() - started) < turn:
                read()
                done += 1
            counts[side] += done
            spent[side] += took
            rates.append(done / took)
        ratios.append(rates[0] / rates[1])
    primary, replica = (count / took for count, took in zip(counts, spent, strict=True))
    low, median, high = statistics.quantiles(ratios, n=4)
    print(
        f"{name:<36}{primary:>9.0f}{replica:>9.0f}{median:>8.3f}  {low:.2f}–{high:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per row and side")
    parser.add_argument("--primary", default="postgresql://postgres@127.0.0.1:5433/postgres")
    parser.add_argument("--replica", default="postgresql://postgres@127.0.0.1:5435/postgres")
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from benchmarks.api import PASSWORD, WEEK, seed
    from ejournal.api.app import create_app
    from ejournal.api.bootstrap import bootstrap
    from ejournal.api.reads import Audience, ReadModels
    from ejournal.generator.demo import YEAR
    from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
    from ejournal.ledger.domain import SchoolClass, SchoolYear
    from ejournal.ledger.settings import Settings

    name = f"ejournal_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.primary, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = args.primary.rsplit("/", 1)[0] + "/" + name
    replica_url = args.replica.rsplit("/", 1)[0] + "/" + name
    vault_key = new_key()
    served: list[Any] = []
    try:
        plan = seed(database_url, vault_key)
        for replicas in ((), (replica_url,)):
            services = bootstrap(
                Settings(database_url=database_url, replica_urls=replicas),
                environ={VAULT_KEY_VARIABLE: vault_key},
                follow=False,
            )
            client = TestClient(create_app(services))
            client.__enter__()
            served.append((services, client))
        (primary, primary_client), (standby, standby_client) = served
        assert standby.reads.replicas is not None
        (replica,) = standby.reads.replicas.replicas

        login, student = sorted(plan.parents.items())[0]
        school = uuid.UUID(plan.school_id)
        diary = f"/schools/{school}/years/{YEAR}/students/{student}/diary"
        week = {"from": WEEK[0], "to": WEEK[1]}

        def http_diary(client: TestClient) -> Callable[[], Any]:
            response = client.post("/auth/login", json={"login": login, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

            def read() -> Any:
                response = client.get(diary, headers=headers, params=week)
                assert response.status_code == 200, response.text
                return response

            return read

        first, last = (date.fromisoformat(day) for day in WEEK)
        key = (uuid.UUID(student), school, YEAR, first, last, Audience.FAMILY)

        def fresh_diary(services: Any) -> Callable[[], Any]:
            replicas = services.reads.replicas
            return lambda: ReadModels(services.ledger, replicas).diary_json(key)

        ledger = primary.ledger
        class_id = SchoolClass.create_id(school_id=school, year_start=YEAR, grade=5, letter="А")
        year = ledger.get(SchoolYear.create_id(school_id=school, year_start=YEAR), SchoolYear)
        subject = year.subject_named("Русский язык")
        assert subject is not None

        def journal(services: Any) -> Callable[[], Any]:
            return lambda: services.reads.class_journal(class_id, subject.subject_id, None, None)

        def sheet(services: Any) -> Callable[[], Any]:
            return lambda: services.reads.summary_sheet(class_id, None)

        print(f"primary {args.primary}, replica {args.replica}; {args.seconds:g} s per side")
        print(f"{'reads/s':<36}{'primary':>9}{'replica':>9}{'ratio':>8}  middle half")
        rows = (
            ("diary over HTTP, rendered", http_diary(primary_client), http_diary(standby_client)),
            ("diary rendered afresh", fresh_diary(primary), fresh_diary(standby)),
            ("class journal page (5«А», Russian)", journal(primary), journal(standby)),
            ("summary sheet (5«А»)", sheet(primary), sheet(standby)),
        )
        for row, on_primary, on_replica in rows:
            before = replica.served
            compare(row, (on_primary, on_replica), args.seconds)
            print(f"{'':<36}(the replica served {replica.served - before} reads)", flush=True)
    finally:
        for services, client in served:
            client.__exit__(None, None, None)
            services.close()
        with psycopg.connect(args.primary, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
