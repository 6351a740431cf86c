"""A school year with marks, closed and archived, for the archive tests (п. 2.9–2.11, 3.1)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.documents.year_close import YearCloseResult, close_school_year
from ejournal.integrity.bagit import (
    BAG_INFO_TXT,
    PAYLOAD_MANIFEST,
    TAG_MANIFEST,
    encode_path,
    read_bag_info,
    sha256_file,
)
from ejournal.integrity.note import Ed25519Signer, Verifier, generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.signatories import signatory_key_name
from tests.commands.school import TestSchool, build_school
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database

ORIGIN = "journal.test-district.ru"
NAMES = {
    UUID(int=1000): "Абдуллаев Магомед",
    UUID(int=1001): "Иванова Мария",
    UUID(int=1002): "Гасанова Patimat",
    UUID(int=1003): "Ёлкин Пётр",
    UUID(int=1004): "Шамилов Руслан",
    UUID(int=1005): "Юсупова Аминат",
    UUID(int=101): "Алиева Зарема Магомедовна",
}


def names(person: UUID) -> str | None:
    return NAMES.get(person)


@dataclass
class ArchivedYear:
    school: TestSchool
    checkpointer: Checkpointer
    checkpoint_signer: Ed25519Signer
    head_signer: Ed25519Signer
    result: YearCloseResult

    @property
    def verifiers(self) -> list[Verifier]:
        return [self.checkpoint_signer.verifier()]


def checkpointer_for(ledger: Ledger, signer: Ed25519Signer) -> Checkpointer:
    return Checkpointer(
        ledger.database,
        origin=ORIGIN,
        signers=[signer],
        verifiers=[signer.verifier()],
        clock=ledger.clock,
        every_entries=3,
    )


def record_year(school: TestSchool, clock: ManualClock) -> None:
    """A few lessons with marks, and period and year marks for part of the class."""
    ledger = school.ledger
    maths = school.subjects["Математика"]
    lesson = school.lesson()
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=lesson, codes={school.students[5]: "Н"}),
        ledger,
    )
    c.handle(
        c.RecordClassWorkMarks(
            actor=school.maths,
            lesson_id=lesson,
            work_type_id=school.work_types["Ответ на уроке"],
            marks={school.students[0]: 5, school.students[1]: 4},
        ),
        ledger,
    )
    c.handle(
        c.AssignHomework(actor=school.maths, lesson_id=lesson, text="Упражнения", pages="12"),
        ledger,
    )
    for student, value in zip(school.students[:4], ("5", "4", "ОСВ", "Н/А"), strict=True):
        c.handle(
            c.SetPeriodMark(
                actor=school.maths,
                roster_id=school.class_id,
                subject_id=maths,
                student_id=student,
                value=value,
                period="I четверть",
            ),
            ledger,
        )
    c.handle(
        c.SetPeriodMark(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=maths,
            student_id=school.students[1],
            value="5",
            period="I четверть",
            reason="пересчёт после контрольной",
        ),
        ledger,
    )
    english = school.subjects["Английский язык"]
    c.handle(
        c.SetYearMark(
            actor=school.english,
            roster_id=school.group_id,
            subject_id=english,
            student_id=school.students[0],
            value=4,
        ),
        ledger,
    )
    clock.advance(timedelta(hours=1))


def build_archived_year(ledger: Ledger, clock: ManualClock, out: Path) -> ArchivedYear:
    school = build_school(ledger)
    record_year(school, clock)
    checkpoint_signer = generate_signer(ORIGIN)
    checkpointer = checkpointer_for(ledger, checkpoint_signer)
    head_signer = generate_signer(signatory_key_name(school.person["head"]))
    result = close_school_year(
        ledger,
        checkpointer=checkpointer,
        checkpoint_verifiers=[checkpoint_signer.verifier()],
        actor=school.head,
        signer=head_signer,
        school_id=school.school_id,
        year_start=2025,
        out=out,
        names=names,
    )
    return ArchivedYear(school, checkpointer, checkpoint_signer, head_signer, result)


def remanifest(root: Path) -> None:
    """Rewrite the manifests and Payload-Oxum after a change, as a careful forger would."""
    files = sorted(p for p in (root / "data").rglob("*") if p.is_file())
    lines, octets = [], 0
    for path in files:
        digest, size = sha256_file(path)
        octets += size
        lines.append(f"{digest}  {encode_path(path.relative_to(root).as_posix())}\n")
    (root / PAYLOAD_MANIFEST).write_text("".join(lines), encoding="utf-8")
    info = [
        (label, f"{octets}.{len(files)}" if label == "Payload-Oxum" else value)
        for label, value in read_bag_info(root)
    ]
    (root / BAG_INFO_TXT).write_text(
        "".join(f"{label}: {value}\n" for label, value in info), encoding="utf-8"
    )
    tags = sorted(p for p in root.iterdir() if p.is_file() and p.name != TAG_MANIFEST)
    (root / TAG_MANIFEST).write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in tags),
        encoding="utf-8",
    )


@pytest.fixture(scope="module", params=BACKENDS)
def archived_year(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ArchivedYear]:
    """A school year with marks, closed, its summary sheet certified, archived (п. 2.11)."""
    base = tmp_path_factory.mktemp(f"year-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'ejournal.db'}"
    else:
        request.getfixturevalue("pg_available")
        url = create_pg_database()
    clock = ManualClock(datetime(2025, 9, 1, 6, 0, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        yield build_archived_year(ledger, clock, base / "archive")
    finally:
        ledger.close()
        if request.param == "postgres":
            drop_pg_database(url)
