"""Every printout of a school, rendered and timed: pages a second per kind beside an anchor.

Generates a district school of 11 classes (one a grade) on SQLite for ``--weeks`` school weeks
(17 by default: the first half-year, so every class has period marks), then renders, each
certified by the journal's seal:

- the summary sheet of each class's latest period with marks, and of the year;
- the class journal pages of every class and subject for the first quarter (1 September –
  26 October);
- the weekly diary of the first pupil of each class for the third week of October;
- the year-close sheets (the year closed, each class's sheet certified by the head).

The anchor, measured in the same run: Typst compiling a trivial one-page document (one line of
text) to PDF, the floor any printout pays. ``--demo`` renders the demo school as well. With
``--out DIR`` every PDF is written there with a PNG of each page (pdftoppm -r 80), to look at;
with ``--check`` every PDF is checked as the tests check a few (PDF/A structure, no word outside
its cell, no poppler warning), and the faults are listed.

    .venv/bin/python benchmarks/documents.py [--weeks 17] [--demo] [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import typst
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ejournal import commands as c
from ejournal.documents.certify import (
    Printout,
    ServiceSeal,
    print_class_journal,
    print_summary_sheet,
    print_weekly_diary,
    rest_on_checkpoint,
)
from ejournal.documents.year_close import close_school_year
from ejournal.generator import Plan, demo_school, district_plan, generate
from ejournal.generator.demo import DEMO_SEED, PLANS, WEEK
from ejournal.generator.names import school_names
from ejournal.generator.spec import SchoolSpec
from ejournal.integrity.note import Ed25519Signer, generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Account, SchoolClass, SchoolYear
from ejournal.ledger.logs import school_log_id
from ejournal.ledger.signatories import SignatoryKeyStore

ORIGIN = "bench.ejournal"
SEED = 11
QUARTER = (date(2025, 9, 1), date(2025, 10, 26))
DIARY_WEEK = date(2025, 10, 15)
ANCHOR = '#set page(paper: "a4")\nОдна строка текста.\n'


@dataclass
class Kind:
    """One kind of printout: how many, how many pages, how long."""

    name: str
    documents: int = 0
    pages: int = 0
    seconds: float = 0.0
    faults: list[str] = field(default_factory=list)

    def add(self, pdf: bytes, seconds: float) -> None:
        self.documents += 1
        self.pages += len(PdfReader(io.BytesIO(pdf)).pages)
        self.seconds += seconds

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def anchor(rounds: int = 20) -> float:
    """Pages a second of Typst compiling a one-line page to PDF."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "anchor.typ"
        source.write_text(ANCHOR, encoding="utf-8")
        typst.compile(source, format="pdf", ignore_system_fonts=True)  # warm the fonts
        started = time.perf_counter()
        for _ in range(rounds):
            typst.compile(source, format="pdf", ignore_system_fonts=True)
        return rounds / (time.perf_counter() - started)


@dataclass
class School:
    ledger: Ledger
    clock: ManualClock
    spec: SchoolSpec
    names: dict[UUID, str]
    checkpointer: Checkpointer
    signer: Ed25519Signer
    label: str

    def class_id(self, grade: int, letter: str) -> UUID:
        return SchoolClass.create_id(
            school_id=self.spec.school_id, year_start=2025, grade=grade, letter=letter
        )


def build(path: Path, plan: Plan, label: str) -> School:
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=f"sqlite:///{path}", clock=clock)
    started = time.perf_counter()
    (run,), counts = generate(ledger, clock, plan)
    print(f"{label}: {counts.lessons:,} lessons in {time.perf_counter() - started:.0f} s")
    signer = generate_signer(ORIGIN)
    checkpointer = Checkpointer(
        ledger.database, origin=ORIGIN, signers=[signer], verifiers=[signer.verifier()], clock=clock
    )
    names = dict(school_names(run.spec, plan.seed))
    return School(ledger, clock, run.spec, names, checkpointer, signer, label)


def printouts(school: School) -> Iterator[tuple[str, str, Callable[[], Printout]]]:
    """(kind, file name, how to print it) of every printout of the school but the year close."""
    ledger, spec = school.ledger, school.spec
    checkpoint = rest_on_checkpoint(school.checkpointer, school_log_id(spec.school_id, 2025))
    common = {
        "checkpoint": checkpoint,
        "origin": ORIGIN,
        "certifier": ServiceSeal(signers=[school.signer]),
        "names": school.names.get,
    }
    year = ledger.get(SchoolYear.create_id(school_id=spec.school_id, year_start=2025), SchoolYear)
    marked = {m["period"] for m in _period_marks(school, checkpoint.size)}
    for k in spec.classes:
        class_id = school.class_id(k.grade, k.letter)
        scheme = ledger.get(class_id, SchoolClass).period_scheme
        periods = [p.name for p in year.periods(scheme) if p.name in marked]
        stem = f"{k.grade:02d}{k.letter}"
        if periods:
            yield (
                "summary sheet of a period",
                f"summary-{stem}-period",
                lambda class_id=class_id, period=periods[-1]: print_summary_sheet(
                    ledger, class_id=class_id, period=period, **common
                ),
            )
        yield (
            "summary sheet of the year",
            f"summary-{stem}-year",
            lambda class_id=class_id: print_summary_sheet(ledger, class_id=class_id, **common),
        )
        for subject in dict.fromkeys(s for day in k.timetable for s in day):
            for roster in spec.rosters[k.name, subject]:
                yield (
                    "class journal pages",
                    f"journal-{stem}-{_file_name(subject)}-{_file_name(roster.group or '')}",
                    lambda roster=roster, subject=subject: print_class_journal(
                        ledger,
                        roster_id=roster.roster_id,
                        subject_id=spec.subjects[subject],
                        first_day=QUARTER[0],
                        last_day=QUARTER[1],
                        **common,
                    ),
                )
        yield (
            "weekly diary",
            f"diary-{stem}",
            lambda class_id=class_id, pupil=k.students[0]: print_weekly_diary(
                ledger, class_id=class_id, student_id=pupil, week_of=_diary_week(school), **common
            ),
        )


def _diary_week(school: School) -> date:
    return DIARY_WEEK if school.label != "demo" else WEEK[2]


def _period_marks(school: School, size: int) -> list[dict[str, str]]:
    from ejournal.documents.documents import summary_fold

    fold = summary_fold(school.ledger, school_log_id(school.spec.school_id, 2025), size)
    return [{"period": key[4] or ""} for key in fold.marks]


def _file_name(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())[:16] or "class"


def close_year(school: School, kinds: dict[str, Kind], out: Path | None) -> list[bytes]:
    spec, ledger = school.spec, school.ledger
    head = Account.create_id(login=spec.head)
    person = ledger.get(head, Account).person_id
    signer = SignatoryKeyStore(ledger.database, clock=school.clock).create(person, b"bench")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = close_school_year(
            ledger,
            checkpointer=school.checkpointer,
            checkpoint_verifiers=[school.signer.verifier()],
            actor=c.actor_for(ledger, head),
            signer=signer,
            school_id=spec.school_id,
            year_start=2025,
            out=Path(folder) / "archive",
            names=school.names.get,
        )
        seconds = time.perf_counter() - started
    kind = kinds.setdefault("year-close sheets", Kind("year-close sheets"))
    for sheet in result.sheets:
        kind.add(sheet.pdf, seconds / len(result.sheets))
    if out is not None:
        for n, sheet in enumerate(result.sheets, 1):
            _write(out, f"{school.label}-year-close-{n:02d}", sheet.pdf)
    return [sheet.pdf for sheet in result.sheets]


def _write(out: Path, name: str, pdf: bytes) -> None:
    path = out / f"{name}.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(path), str(out / name)], check=True)


def render_school(
    school: School, out: Path | None, check: Callable[[str, bytes], list[str]] | None
) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    pdfs: list[tuple[str, str, bytes]] = []
    for kind_name, name, make in printouts(school):
        started = time.perf_counter()
        printout = make()
        kinds.setdefault(kind_name, Kind(kind_name)).add(
            printout.pdf, time.perf_counter() - started
        )
        pdfs.append((kind_name, f"{school.label}-{name}", printout.pdf))
    sheets = close_year(school, kinds, out)
    pdfs += [
        ("year-close sheets", f"{school.label}-year-close-{n}", p) for n, p in enumerate(sheets)
    ]
    for kind_name, name, pdf in pdfs:
        if out is not None and not kind_name.startswith("year-close"):
            _write(out, name, pdf)
        if check is not None:
            kinds[kind_name].faults += [f"{name}: {fault}" for fault in check(name, pdf)]
    return kinds


def checker(folder: Path) -> Callable[[str, bytes], list[str]]:
    from tests.documents.support import layout_faults, pdf_a_faults

    def check(name: str, pdf: bytes) -> list[str]:
        faults = pdf_a_faults(pdf) + layout_faults(pdf)
        path = folder / f"{name}.pdf"
        path.write_bytes(pdf)
        for tool in ("pdfinfo", "pdftotext"):
            if shutil.which(tool):
                args = [tool, str(path)] + (["-"] if tool == "pdftotext" else [])
                done = subprocess.run(args, capture_output=True, text=True)
                faults += [f"{tool}: {line}" for line in done.stderr.splitlines()]
        return faults

    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=17)
    parser.add_argument("--demo", action="store_true", help="render the demo school too")
    parser.add_argument("--out", type=Path, help="write every PDF and its PNG pages here")
    parser.add_argument("--check", action="store_true", help="check every PDF as the tests do")
    args = parser.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    floor = anchor()
    print(f"anchor: Typst, a one-line page to PDF: {floor:.1f} pages/s")
    with tempfile.TemporaryDirectory() as folder:
        plans = [("generated", district_plan(schools=1, seed=SEED, weeks=args.weeks, parallels=1))]
        if args.demo:
            demo = Plan(schools=[demo_school(DEMO_SEED, PLANS)], seed=DEMO_SEED,
                        first_day=WEEK[0], last_day=WEEK[-1], exams=False)  # fmt: skip
            plans.append(("demo", demo))
        check = checker(Path(folder)) if args.check else None
        for label, plan in plans:
            school = build(Path(folder) / f"{label}.db", plan, label)
            try:
                kinds = render_school(school, args.out, check)
            finally:
                school.ledger.close()
            print(f"\n{label} school, {len(school.spec.classes)} classes")
            print(f"{'kind':28} {'documents':>9} {'pages':>6} {'pages/s':>8} {'× anchor':>9}")
            for kind in kinds.values():
                print(
                    f"{kind.name:28} {kind.documents:>9} {kind.pages:>6} {kind.rate:>8.2f} "
                    f"{kind.rate / floor:>9.3f}"
                )
            for kind in kinds.values():
                for fault in kind.faults:
                    print(f"  fault: {fault}")


if __name__ == "__main__":
    main()
