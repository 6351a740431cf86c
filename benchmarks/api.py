"""HTTP throughput: mark writes/s and diary reads/s against a served instance on PostgreSQL.

The benchmark creates a fresh PostgreSQL database, records the demo school in it (``run_demo``: two
classes, eight teachers, a week of lessons), gives its teachers and twenty parents logins, and
serves it with ``ejournal serve --workers`` in a subprocess on 127.0.0.1, connected to PostgreSQL
over its Unix socket (``--tcp``: over TCP). A load generator in another process then logs in
and, for ``--seconds`` each, measures two floors (``GET /health``: the HTTP stack; ``GET
/auth/me`` as a parent: authentication alone), then (1) reads diaries — each request a parent
reading their child's diary for the demo week — and (2) records marks — each request a teacher's
mark for a student of one of their own lessons, spread over the week's lessons. Requests go out
over ``--concurrency`` keep-alive connections; every latency is measured from send to complete
response, and the CPU the server's workers, PostgreSQL and the server's supervisor (the
projector) used per request is read from /proc. Only loopback addresses are used, and every
phase and wait is bounded in time.

Target (issue 5, this 2-core machine): >= 300 writes/s and >= 1,000 diary reads/s, p99 < 100 ms.

The page phases (issue 22) read the same through the web pages, with the session in a cookie as a
browser sends it: a parent's diary page of the demo week, and a teacher's lesson page (the
register, marks, topic and homework of each of their lessons of a day). Each page is first
read once in its session (the first view draws it), then again for ``--seconds`` (read again at
the same version of the read models, it is served as drawn, as the JSON diary is rendered once
per version). Target: the pages read again at >= 0.8x the JSON diary reads' rate of the same
run, p99 < 100 ms; the first views are printed beside them.

Then, with the server stopped, one more row in this process (``journal_names``): a class journal
page of 30 pupils (5«А» with five pupils more, every pupil and teacher named in the vault) read
with the names joined (``api.names``, issue 20) against the same page without them, the two
taking turns in 0.2 s slices; the ratio is what the names cost (target: within 1.2×).
``--journal-only`` seeds the demo and runs this row alone.

    .venv/bin/python benchmarks/api.py [--seconds 10] [--concurrency 8] [--workers 2]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--tcp] [--journal-only]
        [--reads-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import uvloop
from eventsourcing.domain import Aggregate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HOST = "127.0.0.1"
PASSWORD = "benchmark-password"
PARENTS = 20
WEEK = ("2025-09-08", "2025-09-12")


@dataclass
class Plan:
    """What the load generator needs, prepared by the seeding process."""

    base_url: str
    school_id: str
    year_start: int
    teachers: dict[str, list[list[str]]]
    """Login → [lesson_id, student_id, work_type_id] the teacher may mark."""
    parents: dict[str, str]
    """Login → their child's student ID."""
    days: dict[str, list[str]]
    """Login → the teacher's lessons of the week's first day (the lesson pages read)."""


# --- seeding (benchmark process) ----------------------------------------------------------------


def seed(database_url: str, vault_key: str) -> Plan:
    from datetime import UTC, datetime

    from ejournal import commands as c
    from ejournal.api.bootstrap import bootstrap
    from ejournal.generator.demo import ANSWER, TEACHERS, YEAR, run_demo
    from ejournal.identity.vault import VAULT_KEY_VARIABLE
    from ejournal.ledger.actor import SYSTEM_ACTOR, Role
    from ejournal.ledger.clock import ManualClock
    from ejournal.ledger.domain import Account, Guardianship, Lesson, SchoolYear
    from ejournal.ledger.recorders import EVENTS_TABLE
    from ejournal.ledger.settings import Settings

    clock = ManualClock(datetime(2025, 9, 1, 5, 0, tzinfo=UTC))
    services = bootstrap(
        Settings(database_url=database_url),
        clock=clock,
        environ={VAULT_KEY_VARIABLE: vault_key},
        follow=False,
    )
    try:
        ledger = services.ledger
        summary = run_demo(ledger, clock)
        school_id = summary.school_id

        def aggregates(topic: str) -> list[Any]:
            with ledger.database.transaction(write=False) as cursor:
                cursor.execute(
                    f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic LIKE ? "
                    "ORDER BY log_id, idx",
                    (f"%:{topic}",),
                )
                ids = [row[0] for row in cursor.fetchall()]
            return [ledger.get(uuid.UUID(str(i)), Aggregate) for i in ids]

        year = ledger.get(SchoolYear.create_id(school_id=school_id, year_start=YEAR), SchoolYear)
        answer = year.work_type_named(ANSWER).work_type_id
        login_of = {}
        for login in TEACHERS:
            account = ledger.get(Account.create_id(login=login), Account)
            login_of[account.person_id] = login
            services.auth.provision(account.id, PASSWORD)
        teachers: dict[str, list[list[str]]] = {login: [] for login in TEACHERS}
        days: dict[str, list[str]] = {login: [] for login in TEACHERS}
        for lesson in aggregates("Lesson.Scheduled"):
            assert isinstance(lesson, Lesson)
            if lesson.substitution is not None or lesson.cancellation is not None:
                continue  # its own teacher may not write it
            if lesson.on.isoformat() == WEEK[0]:
                days[login_of[lesson.teacher_id]].append(str(lesson.id))
            roster = ledger.get(lesson.roster_id, Aggregate)
            for student in sorted(roster.members_on(lesson.on)):
                teachers[login_of[lesson.teacher_id]].append(
                    [str(lesson.id), str(student), str(answer)]
                )
        parents: dict[str, str] = {}
        for n, guardianship in enumerate(aggregates("Guardianship.Opened")[:PARENTS]):
            assert isinstance(guardianship, Guardianship)
            login = f"parent{n:02d}"
            account_id = c.handle(
                c.RegisterAccount(
                    actor=SYSTEM_ACTOR, login=login, person_id=sorted(guardianship.parent_ids)[0]
                ),
                ledger,
            )
            c.handle(
                c.GrantRole(
                    actor=SYSTEM_ACTOR, account_id=account_id, role=Role.PARENT, school_id=school_id
                ),
                ledger,
            )
            services.auth.provision(account_id, PASSWORD)
            parents[login] = str(guardianship.student_id)
        assert services.projector is not None
        services.projector.catch_up()
        return Plan("", str(school_id), YEAR, teachers, parents, days)
    finally:
        services.close()


# --- load generation (its own process) ----------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    requests: int
    ok: int
    failed: int
    statuses: dict[str, int]
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float = 0.0
    """CPU of the server's workers per successful request (user + system)."""
    postgres_cpu_ms: float = 0.0
    """CPU of every PostgreSQL process per successful request."""
    projector_cpu_ms: float = 0.0
    """CPU of the server's supervisor, which runs the projector, per successful request."""


def _cpu_seconds(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the server's workers, by PostgreSQL and by the server's
    supervisor (which runs the projector), from /proc."""
    server = postgres = projector = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue  # the process ended meanwhile
        pid, parent, used = int(entry), int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        if parent == server_pid:
            server += used
        elif pid == server_pid:
            projector += used
        elif command.startswith(b"postgres"):
            postgres += used
    return server, postgres, projector


class _Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams.

    A load generator must cost the machine less than the server it measures: this one formats a
    request and parses a response (status line, Content-Length) in a few microseconds, where a
    general-purpose client spends most of a core at these rates.
    """

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self._reader.readexactly(length)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


Request = tuple[str, str, dict[str, str], bytes | None]


def _login(base_url: str, login: str) -> str:
    response = httpx.post(
        f"{base_url}/auth/login", json={"login": login, "password": PASSWORD}, timeout=10.0
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _cookie(token: str) -> dict[str, str]:
    """The session as a browser sends it to a page (web.sessions)."""
    return {"Cookie": f"ejournal_session={token}"}


async def _phase(
    name: str,
    address: tuple[str, int],
    requests: list[Request],
    *,
    seconds: float,
    concurrency: int,
    server_pid: int,
    once: bool = False,
) -> PhaseResult:
    """``requests`` in turn for ``seconds``; with ``once``, each once (and at most ``seconds``)."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    cursor = 0

    async def worker() -> None:
        nonlocal cursor
        connection = _Connection(*address)
        try:
            while time.monotonic() < deadline and not (once and cursor >= len(requests)):
                method, path, headers, body = requests[cursor % len(requests)]
                cursor += 1
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(10.0):  # wait_for would make a task per request
                        code, _ = await connection.request(method, path, headers, body)
                    status = str(code)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as e:
                    status = type(e).__name__
                    connection.close()
                    connection = _Connection(*address)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            connection.close()

    cpu_before = _cpu_seconds(server_pid)
    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    after = _cpu_seconds(server_pid)
    cpu = [(a - b) * 1000 / max(ok, 1) for a, b in zip(after, cpu_before, strict=True)]
    ordered = sorted(latencies) or [0.0]
    return PhaseResult(
        name=name,
        requests=len(latencies),
        ok=ok,
        failed=len(latencies) - ok,
        statuses=statuses,
        seconds=round(elapsed, 2),
        per_second=round(ok / elapsed, 1),
        p50_ms=round(statistics.median(ordered) * 1000, 1),
        p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        server_cpu_ms=round(cpu[0], 2),
        postgres_cpu_ms=round(cpu[1], 2),
        projector_cpu_ms=round(cpu[2], 2),
    )


@dataclass
class Requests:
    writes: list[Request]
    reads: list[Request]
    diary_pages: list[Request]
    lesson_pages: list[Request]


def _requests(plan: Plan) -> Requests:
    tokens = {login: _login(plan.base_url, login) for login in (*plan.teachers, *plan.parents)}
    rng = random.Random(2025)
    writes: list[Request] = []
    for login, targets in plan.teachers.items():
        for lesson_id, student_id, work_type_id in targets:
            body = {
                "student_id": student_id,
                "value": rng.choice((5, 4, 4, 3, 2)),
                "work_type_id": work_type_id,
            }
            writes.append(
                (
                    "POST",
                    f"/lessons/{lesson_id}/marks",
                    _bearer(tokens[login]),
                    json.dumps(body).encode(),
                )
            )
    rng.shuffle(writes)
    year = f"{plan.school_id}/years/{plan.year_start}"
    reads: list[Request] = [
        (
            "GET",
            f"/schools/{year}/students/{student}/diary?from={WEEK[0]}&to={WEEK[1]}",
            _bearer(tokens[login]),
            None,
        )
        for login, student in plan.parents.items()
    ]
    diary_pages: list[Request] = [
        (
            "GET",
            f"/diary/{plan.school_id}/{plan.year_start}/{student}?week={WEEK[0]}",
            _cookie(tokens[login]),
            None,
        )
        for login, student in plan.parents.items()
    ]
    # A teacher opens the lessons of their day, and again after a while (as a parent the week).
    lesson_pages: list[Request] = [
        ("GET", f"/lesson/{lesson_id}", _cookie(tokens[login]), None)
        for login, lessons in plan.days.items()
        for lesson_id in lessons
    ]
    rng.shuffle(lesson_pages)
    return Requests(writes, reads, diary_pages, lesson_pages)


async def generate(
    plan: Plan, seconds: float, concurrency: int, server_pid: int, *, reads_only: bool = False
) -> list[PhaseResult]:
    requests = _requests(plan)
    host, port = plan.base_url.removeprefix("http://").split(":")
    address = (host, int(port))
    a_parent = requests.reads[0][2]
    phases: list[tuple[str, list[Request]]] = [
        # The floors: the HTTP stack alone, then a request that only authenticates.
        ("GET /health", [("GET", "/health", {}, None)]),
        ("GET /auth/me", [("GET", "/auth/me", a_parent, None)]),
        # Reads before writes: every run reads the same diaries, where the marks a run had
        # written would make its diaries the larger the faster it wrote.
        ("diary reads", requests.reads),
        # A page's first view in a session draws it; views again at the same version of the
        # read models are served as drawn (web.pages, ADR 0014). The first views go first, each
        # page once, so that the repeated ones measure the pages as they are read again.
        ("diary page, first view", requests.diary_pages),
        ("lesson page, first view", requests.lesson_pages),
        ("diary page", requests.diary_pages),
        ("lesson page", requests.lesson_pages),
    ]
    if not reads_only:
        phases.append(("mark writes", requests.writes))
    results = []
    for name, sent in phases:
        results.append(
            await _phase(
                name,
                address,
                sent,
                seconds=seconds,
                concurrency=concurrency,
                server_pid=server_pid,
                once=name.endswith("first view"),
            )
        )
    return results


def run_generator(
    plan_file: str, seconds: float, concurrency: int, server_pid: int, reads_only: bool
) -> None:
    plan = Plan(**json.loads(Path(plan_file).read_text(encoding="utf-8")))
    # uvloop, as the server runs on: about a third less of the generator's CPU per request.
    results = uvloop.run(generate(plan, seconds, concurrency, server_pid, reads_only=reads_only))
    print(json.dumps([asdict(r) for r in results]))


# --- the class journal page with names (in-process) ----------------------------------------------

EXTRA_PUPILS = 5
"""Pupils enrolled in 5«А» beside its 25: a page of 30."""
TEACHER_LOGIN = "t.russkiy"
"""5«А»'s teacher of Russian, who reads the page."""
SLICE = 0.2


def journal_names(database_url: str, vault_key: str, school_id: str, seconds: float) -> None:
    """Print the class journal page's rate with and without names, and their ratio."""
    from datetime import date

    from ejournal import commands as c
    from ejournal.api.bootstrap import bootstrap
    from ejournal.api.names import journal_people
    from ejournal.api.routes.reads import class_journal
    from ejournal.generator.demo import YEAR
    from ejournal.identity.authenticator import Caller
    from ejournal.identity.names import Names
    from ejournal.identity.vault import VAULT_KEY_VARIABLE, PersonalData
    from ejournal.ledger.domain import Account, SchoolClass, SchoolYear
    from ejournal.ledger.settings import Settings

    services = bootstrap(
        Settings(database_url=database_url), environ={VAULT_KEY_VARIABLE: vault_key}, follow=False
    )
    try:
        ledger, reads, vault = services.ledger, services.reads, services.vault
        assert vault is not None and services.projector is not None
        school = uuid.UUID(school_id)
        class_id = SchoolClass.create_id(school_id=school, year_start=YEAR, grade=5, letter="А")
        head = c.actor_for(ledger, Account.create_id(login="direktor"))
        for n in range(EXTRA_PUPILS):
            pupil = uuid.uuid5(class_id, f"benchmark pupil {n}")
            c.handle(
                c.EnrolStudent(
                    actor=head, class_id=class_id, student_id=pupil, on=date(YEAR, 9, 1)
                ),
                ledger,
            )
        services.projector.catch_up()
        year = ledger.get(SchoolYear.create_id(school_id=school, year_start=YEAR), SchoolYear)
        subject = year.subject_named("Русский язык")
        assert subject is not None
        page = reads.class_journal(class_id, subject.subject_id, None, None)
        people = journal_people(page).wanted(ledger)
        for n, (person, _) in enumerate(sorted(set(people.values()))):
            name = PersonalData(f"Фамилия{n} Имя{n} Отчество{n}")
            vault.put(person, name, school_id=school, now=ledger.clock())
        teacher = ledger.get(Account.create_id(login=TEACHER_LOGIN), Account)
        caller = Caller(
            actor=c.actor_for(ledger, teacher.id, session_id=uuid.uuid4()),
            person_id=teacher.person_id,
            login=TEACHER_LOGIN,
        )

        # The route's own work, as a request does it (``cached_reads``, as the app's middleware
        # opens; the access log written), to the JSON FastAPI sends; without names, the vault
        # is left out (``Names(None)``, as a server without a vault key).
        def page_read(names: Names) -> int:
            with ledger.cached_reads():
                shown = class_journal(
                    class_id, subject.subject_id, caller, ledger, reads, services.access_log, names
                )
                return len(shown.model_dump_json())

        def without() -> int:
            return page_read(Names(None))

        def with_names() -> int:
            return page_read(Names(vault))

        assert with_names() > without()  # the names are there
        counts, spent = [0, 0], [0.0, 0.0]
        deadline = time.monotonic() + 2 * seconds
        while time.monotonic() < deadline:
            for side, read in enumerate((without, with_names)):
                started = time.perf_counter()
                while time.perf_counter() - started < SLICE:
                    read()
                    counts[side] += 1
                spent[side] += time.perf_counter() - started
        rates = [count / took for count, took in zip(counts, spent, strict=True)]
        print(
            f"class journal page, {len(page.rows)} pupils, {len(page.lessons)} lessons, "
            f"{len(people)} names: without names {rates[0]:.0f} pages/s, with names "
            f"{rates[1]:.0f} pages/s; cost ratio {rates[0] / rates[1]:.3f} (target <= 1.2)"
        )
    finally:
        services.close()


# --- orchestration ------------------------------------------------------------------------------


def _page_ratios(results: list[PhaseResult]) -> None:
    """Each page's rate against the JSON diary read's of the same run (target >= 0.8x, p99 <
    100 ms)."""
    by_name = {r.name: r for r in results}
    json_rate = by_name["diary reads"].per_second
    for name in ("diary page, first view", "lesson page, first view"):
        page = by_name[name]
        ratio = page.per_second / json_rate if json_rate else 0.0
        print(f"{name}: {ratio:.2f}x the JSON diary read's rate, p99 {page.p99_ms} ms")
    for name in ("diary page", "lesson page"):
        page = by_name[name]
        ratio = page.per_second / json_rate if json_rate else 0.0
        verdict = "ok" if ratio >= 0.8 and page.p99_ms < 100 else "BELOW TARGET"
        print(
            f"{name}: {ratio:.2f}x the JSON diary read's rate, p99 {page.p99_ms} ms "
            f"(target >= 0.8x, p99 < 100 ms): {verdict}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready within {timeout} s")


def _served_url(admin_url: str, name: str, *, tcp: bool) -> str:
    """The URL the server is given: over PostgreSQL's Unix socket, as docs/operations.md advises
    for a server on the same machine, unless ``tcp`` or the socket is not on this machine."""
    if not tcp:
        with psycopg.connect(admin_url) as conn:
            row = conn.execute("SHOW unix_socket_directories").fetchone()
        directory = str(row[0]).split(",")[0].strip() if row else ""
        if directory and Path(directory).is_dir():
            user = urlsplit(admin_url).username or "postgres"
            return f"postgresql://{user}@/{name}?host={directory}"
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=2, help="server worker processes (one a core)"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--tcp", action="store_true", help="serve over TCP, not PostgreSQL's Unix socket"
    )
    parser.add_argument(
        "--journal-only", action="store_true", help="only the class journal page with names"
    )
    parser.add_argument(
        "--reads-only", action="store_true", help="the floors, the diary and the pages: no writes"
    )
    args = parser.parse_args()
    from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key

    name = f"ejournal_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = _served_url(args.pg, name, tcp=args.tcp)
    server: subprocess.Popen[bytes] | None = None
    try:
        vault_key = new_key()
        started = time.monotonic()
        plan = seed(database_url, vault_key)
        print(f"seeded the demo school in {time.monotonic() - started:.1f} s", file=sys.stderr)
        if args.journal_only:
            journal_names(database_url, vault_key, plan.school_id, args.seconds)
            return
        port = _free_port()
        plan.base_url = f"http://{HOST}:{port}"
        env = {
            **os.environ,
            "EJOURNAL_DATABASE_URL": database_url,
            VAULT_KEY_VARIABLE: vault_key,
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        # As an operator serves PostgreSQL: `ejournal serve --workers N`, whose supervisor
        # process runs the projector.
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from ejournal.cli.main import main; main()",
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,  # the supervisor's banner; its workers log to stderr
        )
        _wait_until_up(plan.base_url, server, timeout=60)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(asdict(plan), f)
        generator = subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                f.name,
                "--seconds",
                str(args.seconds),
                "--concurrency",
                str(args.concurrency),
                "--server-pid",
                str(server.pid),
                *(["--reads-only"] if args.reads_only else []),
            ],
            capture_output=True,
            text=True,
            timeout=args.seconds * 4 + 120,
            check=True,
        )
        os.unlink(f.name)
        results = [PhaseResult(**r) for r in json.loads(generator.stdout)]
        print(
            f"PostgreSQL over {'its Unix socket' if '?host=' in database_url else 'TCP'}, "
            f"{args.workers} worker(s), {args.concurrency} connections, "
            f"{args.seconds:g} s per phase"
        )
        print("CPU ms per request: server (all workers), PostgreSQL, supervisor (projector)")
        print(
            f"{'phase':<24}{'ok/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'server':>9}{'pg':>7}"
            f"{'proj':>7}{'requests':>10}  statuses"
        )
        for r in results:
            print(
                f"{r.name:<24}{r.per_second:>9}{r.p50_ms:>9}{r.p99_ms:>9}{r.server_cpu_ms:>9}"
                f"{r.postgres_cpu_ms:>7}{r.projector_cpu_ms:>7}{r.requests:>10}  {r.statuses}"
            )
        _page_ratios(results)
        if args.reads_only:
            return
        server.terminate()  # the last row runs in this process, on the machine alone
        server.wait(timeout=20)
        server = None
        journal_names(database_url, vault_key, plan.school_id, args.seconds)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--generate":
        generator_args = argparse.ArgumentParser()
        generator_args.add_argument("--generate")
        generator_args.add_argument("--seconds", type=float)
        generator_args.add_argument("--concurrency", type=int)
        generator_args.add_argument("--server-pid", type=int)
        generator_args.add_argument("--reads-only", action="store_true")
        parsed = generator_args.parse_args()
        run_generator(
            parsed.generate,
            parsed.seconds,
            parsed.concurrency,
            parsed.server_pid,
            parsed.reads_only,
        )
    else:
        main()
