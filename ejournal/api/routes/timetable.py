"""The school-year timetable (п. 2.2) and what the administration decides of one lesson (п. 2.3).

The head or a deputy sets a class's timetable from a date (``SetTimetable``: the lessons follow
from it), names a substitute for a lesson or cancels one; the commands check who may and what.
Everyone of the school reads a class's timetable and its week (no child is named in either), and
auditors (without names); the reasons of substitutions and cancellations are the staff's.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from ejournal import commands as c
from ejournal.api.commands import accepted
from ejournal.api.deps import CurrentActor, CurrentCaller, LedgerDep, NamesDep
from ejournal.api.errors import problem_responses
from ejournal.api.names import People, joined
from ejournal.api.policy import EVERY_ROLE, STAFF, load_class, year_list_reader
from ejournal.api.routes.lists import today_in_year
from ejournal.api.schemas.common import Accepted, SchoolDate
from ejournal.api.schemas.setup import ReasonIn
from ejournal.api.schemas.timetable import (
    ClassWeekOut,
    EntryOut,
    KeptLessonOut,
    SubstituteIn,
    TimetableChangeOut,
    TimetableIn,
    TimetableOut,
    WeekLessonOut,
)
from ejournal.api.threads import OneTripRoute
from ejournal.projections.timetable import TimetableReads

router = APIRouter(
    route_class=OneTripRoute,
    tags=["timetable"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

CLASS = "/classes/{class_id}"
LESSON = "/lessons/{lesson_id}"
OnQuery = Annotated[
    SchoolDate | None,
    Query(description="The day to read as of; by default today (within the school year)"),
]


@router.put(
    CLASS + "/timetable/{effective_from}",
    response_model=TimetableChangeOut,
    summary="Set the class's timetable from a date to the end of the year (administration, "
    "п. 2.2): its lessons are scheduled, re-planned or cancelled; lessons with records kept",
)
def set_timetable(
    class_id: UUID,
    effective_from: SchoolDate,
    body: TimetableIn,
    actor: CurrentActor,
    ledger: LedgerDep,
) -> TimetableChangeOut:
    command = c.SetTimetable(
        actor=actor,
        class_id=class_id,
        effective_from=effective_from,
        entries=body.timetable_entries(),
    )
    change = c.handle(command, ledger)
    return TimetableChangeOut(
        timetable_id=change.timetable_id,
        effective_from=change.effective_from,
        scheduled=change.scheduled,
        replanned=change.replanned,
        cancelled=change.cancelled,
        kept=[
            KeptLessonOut(
                lesson_id=k.lesson_id,
                roster_id=k.roster_id,
                on=k.on,
                slot=k.slot,
                reason=k.reason,
                note=c.KEPT_REASONS[k.reason],
            )
            for k in change.kept
        ],
    )


@router.get(
    CLASS + "/timetable",
    response_model=TimetableOut,
    summary="The class's timetable in force on a day, with subjects, rosters, teachers, rooms "
    "and bell times (everyone of the school; auditors)",
)
def read_timetable(
    class_id: UUID, caller: CurrentCaller, ledger: LedgerDep, names: NamesDep, on: OnQuery = None
) -> TimetableOut:
    school_class = load_class(ledger, class_id)
    role = year_list_reader(caller, school_class.school_id, EVERY_ROLE)
    day = on or today_in_year(ledger, school_class.school_id, school_class.year_start)
    found = TimetableReads(ledger.database).timetable(class_id, day)
    teachers = People()
    for entry in found.entries:
        teachers.adult(entry.teacher_id)
    return TimetableOut(
        class_id=class_id,
        class_name=found.school_class.name,
        bell_schedule=found.school_class.bell_schedule,
        on=found.on,
        effective_from=found.effective_from,
        versions=list(found.versions),
        entries=[EntryOut.model_validate(e) for e in found.entries],
        names=joined(names, ledger, role, teachers),
    )


@router.get(
    CLASS + "/week",
    response_model=ClassWeekOut,
    summary="The class's lessons of a week (Monday to Sunday) as the timetable made them: "
    "teachers, substitutes, rooms, bell times, cancelled lessons (everyone of the school; "
    "auditors)",
)
def class_week(
    class_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    names: NamesDep,
    of: Annotated[
        SchoolDate | None, Query(description="A day of the week; by default today's week")
    ] = None,
) -> ClassWeekOut:
    school_class = load_class(ledger, class_id)
    role = year_list_reader(caller, school_class.school_id, EVERY_ROLE)
    day = of or today_in_year(ledger, school_class.school_id, school_class.year_start)
    found = TimetableReads(ledger.database).class_week(class_id, day)
    staff = role in STAFF
    teachers = People()
    lessons = []
    for lesson in found.lessons:
        teachers.adult(lesson.teacher_id)
        teachers.adult(lesson.substitute_for)
        shown = WeekLessonOut.model_validate(lesson)
        if not staff:  # a teacher's illness is not the families' to read
            shown = shown.model_copy(
                update={"substitution_reason": None, "cancellation_reason": None}
            )
        lessons.append(shown)
    return ClassWeekOut(
        class_id=class_id,
        class_name=found.school_class.name,
        starts_on=found.starts_on,
        ends_on=found.ends_on,
        lessons=lessons,
        names=joined(names, ledger, role, teachers),
    )


@router.put(
    LESSON + "/substitute",
    response_model=Accepted,
    summary="Name the teacher who takes the lesson instead of its own, with a reason "
    "(administration, п. 2.3); the lesson's own teacher ends the substitution",
)
def assign_substitute(
    lesson_id: UUID, body: SubstituteIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.AssignSubstitute(actor=actor, lesson_id=lesson_id, **body.fields())
    return accepted(command, ledger)


@router.post(
    LESSON + "/cancellation",
    response_model=Accepted,
    summary="Cancel a lesson nothing is written in yet, with a reason (administration, п. 2.2)",
)
def cancel_lesson(
    lesson_id: UUID, body: ReasonIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.CancelLesson(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)
