"""The dispatcher: one handler per command, retries on concurrent writes, and the code catalogue."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from ejournal import commands as c
from ejournal.commands import Conflict
from ejournal.commands.errors import CATALOGUE, refuse
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Lesson
from ejournal.ledger.errors import ConcurrentWriteError
from tests.commands.school import MONDAY, TestSchool, count_events

COMMANDS_DIR = Path(c.__file__).parent


def test_every_command_has_one_handler():
    commands = {
        obj
        for module in sorted(p.stem for p in COMMANDS_DIR.glob("[a-z]*.py"))
        for _, obj in inspect.getmembers(__import__(f"ejournal.commands.{module}", fromlist=["x"]))
        if inspect.isclass(obj)
        and issubclass(obj, c.Command)
        and obj is not c.Command
        and not obj.__name__.startswith("_")
    }
    assert commands == set(c.HANDLERS)


def test_every_refusal_code_is_in_the_catalogue_and_every_entry_is_used():
    source = "\n".join(p.read_text() for p in COMMANDS_DIR.glob("*.py") if p.name != "errors.py")
    used = set(re.findall(r'refuse\(\s*"([a-z_.]+)"', source))
    used |= set(re.findall(r'ledger, [\w.]+, \w+, "([a-z_.]+)"', source))  # load(..., code)
    used.add("conflict")  # raised by handle()
    assert used <= set(CATALOGUE)
    assert set(CATALOGUE) - used == set()


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_is_russian_and_formats(code: str):
    details = set(re.findall(r"{(\w+)}", CATALOGUE[code].message))
    error = refuse(code, **dict.fromkeys(details, "…"))
    assert error.code == code
    assert re.search("[а-яА-Я]", error.message)
    assert str(error).startswith(f"{code}: ")
    assert isinstance(error, c.CommandError)


def test_handle_retries_after_a_concurrent_write(ledger: Ledger, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []

    def flaky(command: object, ledger: object) -> str:
        calls.append(1)
        if len(calls) < c.ATTEMPTS:
            raise ConcurrentWriteError("someone else was first")
        return "done"

    monkeypatch.setitem(c.HANDLERS, c.RecordMark, flaky)
    command = c.RecordMark.__new__(c.RecordMark)
    assert c.handle(command, ledger) == "done"
    assert len(calls) == c.ATTEMPTS


def test_handle_gives_up_with_a_conflict(ledger: Ledger, monkeypatch: pytest.MonkeyPatch):
    def always(command: object, ledger: object) -> None:
        raise ConcurrentWriteError("someone else was first")

    monkeypatch.setitem(c.HANDLERS, c.RecordMark, always)
    command = c.RecordMark.__new__(c.RecordMark)
    with pytest.raises(Conflict, match="conflict") as info:
        c.handle(command, ledger)
    assert info.value.code == "conflict"


def test_a_real_concurrent_write_is_retried_from_a_fresh_load(
    school: TestSchool, monkeypatch: pytest.MonkeyPatch
):
    # Another teacher's mark lands between this handler's load and its save: the save fails
    # as a whole, the handler runs again from a fresh load, and both marks are kept.
    lesson_id = school.lesson(on=MONDAY)
    answer = school.work_types["Ответ на уроке"]
    record = school.ledger.record
    raced: list[bool] = []

    def racing_record(*aggregates, **kwargs):
        if not raced:
            raced.append(True)
            c.handle(
                c.RecordMark(
                    actor=school.maths,
                    lesson_id=lesson_id,
                    student_id=school.students[1],
                    value=4,
                    work_type_id=answer,
                ),
                school.ledger,
            )
        return record(*aggregates, **kwargs)

    monkeypatch.setattr(school.ledger, "record", racing_record)
    before = count_events(school.ledger)
    c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=school.students[0],
            value=5,
            work_type_id=answer,
        ),
        school.ledger,
    )
    assert count_events(school.ledger) == before + 2
    marks = school.ledger.get(lesson_id, Lesson).marks.values()
    assert sorted(m.value for m in marks) == [4, 5]
