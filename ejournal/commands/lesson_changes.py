"""What the administration decides of one lesson (п. 2.2, 2.3): a substitute teacher takes it, or it
is cancelled, each with a reason.

A substitute writes the lesson they take (register, marks, topic, homework, comments) without an
assignment of their own to the roster, and the lesson's own teacher no longer writes it (п. 2.3,
``commands.journal``). A substitute is assigned before anything of the lesson's journal is kept,
so that whoever wrote in it was its teacher then; naming the lesson's own teacher again ends the
substitution. A substitute is a teacher of the school's timetable (of any class), free at the
lesson's time by the timetable in force that day. A lesson is cancelled only while nothing is
written in it; a cancelled lesson takes no records and is not due in the monitor (п. 2.5–2.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from uuid import UUID

from ejournal.commands._access import load, non_blank, principal, writable_year, year_log
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import ADMINISTRATION, Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Lesson, SchoolClass, SchoolTimetable, SchoolYear, Timetable


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignSubstitute(Command[None]):
    """``teacher_id`` (a person who teaches in the school's timetable) takes the lesson, for
    ``reason``; the lesson's own teacher named again ends the substitution."""

    lesson_id: UUID
    teacher_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelLesson(Command[None]):
    """The lesson is not held, for ``reason``; only while nothing is written in it."""

    lesson_id: UUID
    reason: str


def _lesson_for_administration(
    ledger: Ledger, actor: Actor, lesson_id: UUID, reason: str
) -> tuple[Role, Lesson, SchoolYear, str]:
    """The role, the lesson, its year (still writable) and the reason, once the actor is of the
    lesson's school's administration (п. 2.2) and gave a reason."""
    who = principal(ledger, actor)
    lesson = load(ledger, lesson_id, Lesson, "lesson.not_found")
    role = who.role(ADMINISTRATION, lesson.school_id)
    if role is None:
        raise refuse("lesson.administration_only")
    year = writable_year(ledger, lesson.school_id, lesson.year_start)
    text = non_blank(reason)
    if not text:
        raise refuse("reason.required")
    return role, lesson, year, text


def handle_assign_substitute(cmd: AssignSubstitute, ledger: Ledger) -> None:
    role, lesson, year, reason = _lesson_for_administration(
        ledger, cmd.actor, cmd.lesson_id, cmd.reason
    )
    if lesson.cancellation is not None:
        raise refuse("lesson.cancelled", on=lesson.on)
    if cmd.teacher_id == lesson.teacher_in_charge:
        raise refuse("substitution.same_teacher")
    if lesson.is_kept():
        raise refuse("substitution.lesson_kept")
    if cmd.teacher_id != lesson.teacher_id:
        timetables = _school_timetables(ledger, lesson)
        if not any(cmd.teacher_id in _teachers(t) for t, _ in timetables):
            raise refuse("substitution.not_of_school")
        busy = _busy_elsewhere(year, lesson, cmd.teacher_id, timetables)
        if busy is not None:
            raise refuse("substitution.teacher_busy", other=busy)
    lesson.assign_substitute(cmd.teacher_id, reason, at=ledger.clock())
    log_id = year_log(lesson.school_id, lesson.year_start)
    ledger.record(lesson, log_id=log_id, actor=cmd.actor, role=role)


def handle_cancel_lesson(cmd: CancelLesson, ledger: Ledger) -> None:
    role, lesson, _, reason = _lesson_for_administration(
        ledger, cmd.actor, cmd.lesson_id, cmd.reason
    )
    if lesson.cancellation is not None:
        raise refuse("lesson.already_cancelled")
    if lesson.holds_records():
        raise refuse("lesson.has_records")
    lesson.cancel(reason, at=ledger.clock())
    log_id = year_log(lesson.school_id, lesson.year_start)
    ledger.record(lesson, log_id=log_id, actor=cmd.actor, role=role)


def _school_timetables(ledger: Ledger, lesson: Lesson) -> list[tuple[Timetable, SchoolClass]]:
    """The timetables of the classes of the lesson's school year, each with its class."""
    index = ledger.find(
        SchoolTimetable.create_id(lesson.school_id, lesson.year_start), SchoolTimetable
    )
    if index is None:
        return []
    timetables = ledger.find_many(index.timetable_ids(), Timetable)
    classes = ledger.find_many((t.class_id for t in timetables.values()), SchoolClass)
    return [(t, classes[t.class_id]) for t in timetables.values() if t.class_id in classes]


def _teachers(timetable: Timetable) -> set[UUID]:
    """Everyone who teaches a lesson of any version of the timetable."""
    return {e.teacher_id for version in timetable.versions for e in version.entries}


def _busy_elsewhere(
    year: SchoolYear,
    lesson: Lesson,
    teacher_id: UUID,
    timetables: list[tuple[Timetable, SchoolClass]],
) -> str | None:
    """The class in which the timetable in force that day has ``teacher_id`` teaching at a time
    overlapping the lesson's, if any. The teacher's own lesson of the same subject in the
    lesson's class is no obstacle: the two groups are taught together."""
    for timetable, school_class in timetables:
        version = timetable.version_on(lesson.on)
        if version is None:
            continue
        for entry in version.on_weekday(lesson.on.isoweekday()):
            if entry.teacher_id != teacher_id or _together(lesson, school_class, entry.subject_id):
                continue
            bell = year.bell_slot(school_class.bell_schedule, entry.slot)
            if bell is not None and _overlap(lesson, bell.starts_at, bell.ends_at):
                return school_class.name
    return None


def _together(lesson: Lesson, school_class: SchoolClass, subject_id: UUID) -> bool:
    return school_class.id == lesson.class_id and subject_id == lesson.subject_id


def _overlap(lesson: Lesson, starts_at: time, ends_at: time) -> bool:
    return lesson.starts_at < ends_at and starts_at < lesson.ends_at
