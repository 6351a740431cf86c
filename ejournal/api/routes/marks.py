"""What a pupil and the parents follow (п. 1.5, 1.6): the year's marks subject by subject, and a
receipt of one mark that they can check offline (п. 2.10).

Both are read exactly as the diary is: by the pupil, each linked parent, the class teacher and
the administration (``policy.diary_reader``), only of a pupil of that school that year, and each
read is filed in the access log (п. 1.7) before it is returned. A refused request writes nothing.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from ejournal.api.deps import (
    AccessLogDep,
    CurrentCaller,
    LedgerDep,
    NamesDep,
    ReadsDep,
    ServicesDep,
)
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.mark_receipts import Labels, explanation
from ejournal.api.names import People, joined
from ejournal.api.policy import diary_reader
from ejournal.api.reads import ReadModels
from ejournal.api.schemas.common import YearStart
from ejournal.api.schemas.marks import MarkReceiptOut, StudentMarksOut
from ejournal.api.threads import OneTripRoute
from ejournal.commands import school_zone
from ejournal.commands.errors import refuse
from ejournal.identity.access_log import Access
from ejournal.integrity.errors import VerificationError
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Enrolment, Lesson, School
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.mark_receipts import mark_receipt as receipt_document
from ejournal.ledger.mark_receipts import prove_mark

router = APIRouter(
    route_class=OneTripRoute, tags=["reading"], responses=problem_responses(401, 403, 404, 422, 503)
)


@router.get(
    "/schools/{school_id}/years/{year_start}/students/{student_id}/marks",
    response_model=StudentMarksOut,
    summary="A pupil's marks in the school's year, subject by subject and period by period: the "
    "current marks, the weighted average, the period, year, exam and final marks once set, the "
    "lessons of each attendance code and the homework (п. 1.5, 1.6; the read is logged)",
)
def student_marks(
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
) -> StudentMarksOut:
    role = diary_reader(
        ledger,
        caller,
        school_id,
        year_start,
        student_id,
        lambda: _student_class(ledger, reads, school_id, year_start, student_id),
    )
    found = reads.student_marks(student_id, school_id, year_start)
    people = People()
    people.pupil(student_id)
    for subject in found.subjects:
        for period in subject.periods:
            for mark in period.marks:
                people.adult(mark.teacher_id)
            for homework in period.homework:
                people.adult(homework.teacher_id)
    shown = joined(names, ledger, role, people)
    log.record(caller, role, Access.MARKS, [student_id], school_id=school_id, now=ledger.clock())
    return found.model_copy(update={"names": shown})


@router.get(
    "/lessons/{lesson_id}/marks/{mark_id}/receipt",
    response_model=MarkReceiptOut,
    summary="A receipt of a pupil's current mark, for the family to keep and check offline with "
    "`ejournal verify-proof` and the published keys: the proofs that the lesson, the mark and "
    "its correction are in the school's signed log, and what they prove in Russian (the read "
    "is logged)",
)
def mark_receipt(
    lesson_id: UUID,
    mark_id: UUID,
    caller: CurrentCaller,
    services: ServicesDep,
    names: NamesDep,
) -> Response:
    ledger, reads = services.ledger, services.reads
    lesson = ledger.find(lesson_id, Lesson)
    if lesson is None:
        raise refuse("lesson.not_found")
    recorded = lesson.marks.get(mark_id)
    if recorded is None:
        raise refuse("mark.not_found")
    school_id, year_start, student_id = lesson.school_id, lesson.year_start, recorded.student_id
    role = diary_reader(
        ledger,
        caller,
        school_id,
        year_start,
        student_id,
        lambda: _student_class(ledger, reads, school_id, year_start, student_id),
    )
    # The mark as the family sees it: a cancelled one, or one a п. 4.4 rule left out, is none.
    found = reads.lesson_mark(lesson_id, mark_id)
    if found is None or found[1].cancelled:
        raise refuse("mark.not_found")
    shown, mark = found
    corrections = [c for c in mark.history if c.action == "corrected"]
    entries = [mark.provenance.notification_id]
    if corrections:
        entries.append(corrections[-1].provenance.notification_id)
    try:
        facts, records = prove_mark(
            ledger.database,
            lesson_id,
            entries,
            verifiers=KeyStore(ledger.database).verifiers(),
            origin=services.settings.origin,
        )
    except (LedgerError, VerificationError) as e:
        # As GET /ledger/receipts: not yet under a signed checkpoint, or a log that fails.
        failed = isinstance(e, VerificationError)
        detail = "журнал не прошёл проверку целостности" if failed else None
        raise ApiError("receipt.not_provable", detail=detail) from e
    people = People()
    people.pupil(facts.student_id)
    people.adult(facts.teacher_id)
    named = joined(names, ledger, role, people)
    school = ledger.find(school_id, School)
    labels = Labels(
        school=school.name if school is not None else "",
        subject=shown.subject,
        work_type=mark.work_type,
        student=named.get(facts.student_id),
        teacher=named.get(facts.teacher_id),
    )
    zone = school_zone(ledger, school_id)
    body = receipt_document(explanation(facts, labels, zone), facts, records)
    services.access_log.record(
        caller, role, Access.RECEIPT, [student_id], school_id=school_id, now=ledger.clock()
    )
    filename = f"otmetka-{facts.on.isoformat()}-{mark_id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _student_class(
    ledger: Ledger, reads: ReadModels, school_id: UUID, year_start: int, student_id: UUID
) -> UUID | None:
    """The pupil's class in the school that year (asked only of a class teacher): the ledger's
    enrolment record says at once, the read models for an enrolment recorded before it was
    kept."""
    enrolment = ledger.find(
        Enrolment.create_id(student_id=student_id, year_start=year_start), Enrolment
    )
    if enrolment is not None:
        placements = [p for p in enrolment.placements if p.school_id == school_id]
        if placements:
            return placements[-1].class_id
    return reads.student_class(school_id, year_start, student_id)
