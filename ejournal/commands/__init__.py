"""The only way to write the journal: command dataclasses, one handler each, and ``handle``.

A handler checks the actor's roles and assignments, the values and the rules, then calls aggregate
methods and saves once (``Ledger.record``) in the log the records belong to; a refused command
raises a ``CommandError`` and writes nothing. ``handle`` dispatches a command to its handler and
runs it again, from a fresh load, when a concurrent write got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from ejournal.commands._access import load_roster, school_zone
from ejournal.commands.accounts import (
    GrantRole,
    IssueCredentials,
    LockAccount,
    RegisterAccount,
    RegisterSchool,
    RevokeRole,
    UnlockAccount,
    actor_for,
    handle_grant_role,
    handle_issue_credentials,
    handle_lock_account,
    handle_register_account,
    handle_register_school,
    handle_revoke_role,
    handle_unlock_account,
)
from ejournal.commands.attestation import (
    SetExamMark,
    SetFinalMark,
    SetPeriodMark,
    SetYearMark,
    handle_set_exam_mark,
    handle_set_final_mark,
    handle_set_period_mark,
    handle_set_year_mark,
)
from ejournal.commands.base import Command
from ejournal.commands.breach import (
    AntedateBreachReceipt,
    InvalidateSession,
    ReportBreach,
    handle_antedate_breach_receipt,
    handle_invalidate_session,
    handle_report_breach,
)
from ejournal.commands.certification import (
    CertifyDocument,
    RegisterSignatoryKey,
    handle_certify_document,
    handle_register_signatory_key,
)
from ejournal.commands.disposition import (
    DisposeExpiredRecords,
    DispositionResult,
    handle_dispose_expired_records,
)
from ejournal.commands.errors import (
    CATALOGUE,
    CommandError,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    refuse,
)
from ejournal.commands.families import (
    LinkParent,
    UnlinkParent,
    handle_link_parent,
    handle_unlink_parent,
)
from ejournal.commands.journal import (
    AddComment,
    AssignHomework,
    CancelMark,
    ConductLesson,
    CorrectMark,
    RecordAttendance,
    RecordClassWorkMarks,
    RecordMark,
    ScheduleLesson,
    SendMessageToParents,
    SetLessonTopic,
    class_work_mark_id,
    handle_add_comment,
    handle_assign_homework,
    handle_cancel_mark,
    handle_correct_mark,
    handle_record_attendance,
    handle_record_class_work_marks,
    handle_record_mark,
    handle_schedule_lesson,
    handle_send_message_to_parents,
    handle_set_lesson_topic,
)
from ejournal.commands.lesson_changes import (
    AssignSubstitute,
    CancelLesson,
    handle_assign_substitute,
    handle_cancel_lesson,
)
from ejournal.commands.plans import ImportKtp, handle_import_ktp
from ejournal.commands.rosters import (
    AddGroupMember,
    EnrolStudent,
    FormGroup,
    OpenClass,
    OpenIndividualCurriculum,
    RemoveGroupMember,
    WithdrawStudent,
    handle_add_group_member,
    handle_enrol_student,
    handle_form_group,
    handle_open_class,
    handle_open_individual_curriculum,
    handle_remove_group_member,
    handle_withdraw_student,
)
from ejournal.commands.school_year import (
    DEFAULT_BELL_SCHEDULE,
    AddSubject,
    CloseSchoolYear,
    DeclareHoliday,
    DefineBellSchedule,
    DefinePeriods,
    DefineWorkType,
    OpenSchoolYear,
    PeriodSpec,
    ReopenSchoolYear,
    handle_add_subject,
    handle_close_school_year,
    handle_declare_holiday,
    handle_define_bell_schedule,
    handle_define_periods,
    handle_define_work_type,
    handle_open_school_year,
    handle_reopen_school_year,
)
from ejournal.commands.staffing import (
    AssignClassTeacher,
    AssignTeacher,
    UnassignTeacher,
    handle_assign_class_teacher,
    handle_assign_teacher,
    handle_unassign_teacher,
)
from ejournal.commands.subscriptions import (
    CancelDigestSubscription,
    ConfirmDigestSubscription,
    RecordDigestBounce,
    RequestDigestSubscription,
    handle_cancel_digest_subscription,
    handle_confirm_digest_subscription,
    handle_record_digest_bounce,
    handle_request_digest_subscription,
)
from ejournal.commands.timetable import (
    KEPT_REASONS,
    KeptLesson,
    SetTimetable,
    TimetableChange,
    TimetableEntry,
    handle_set_timetable,
)
from ejournal.ledger.application import Ledger
from ejournal.ledger.errors import ConcurrentWriteError

R = TypeVar("R")

ATTEMPTS = 5
"""How many times ``handle`` runs a handler that meets concurrent writes before giving up."""

Handler = Callable[[Any, Ledger], Any]

HANDLERS: dict[type[Command[Any]], Handler] = {
    # Schools and accounts (system log).
    RegisterSchool: handle_register_school,
    RegisterAccount: handle_register_account,
    GrantRole: handle_grant_role,
    RevokeRole: handle_revoke_role,
    IssueCredentials: handle_issue_credentials,
    LockAccount: handle_lock_account,
    UnlockAccount: handle_unlock_account,
    # Compromised logins (п. 4.3–4.4).
    ReportBreach: handle_report_breach,
    AntedateBreachReceipt: handle_antedate_breach_receipt,
    InvalidateSession: handle_invalidate_session,
    # Setting up the year (п. 2.2).
    OpenSchoolYear: handle_open_school_year,
    DefinePeriods: handle_define_periods,
    DeclareHoliday: handle_declare_holiday,
    CloseSchoolYear: handle_close_school_year,
    ReopenSchoolYear: handle_reopen_school_year,
    AddSubject: handle_add_subject,
    DefineWorkType: handle_define_work_type,
    DefineBellSchedule: handle_define_bell_schedule,
    OpenClass: handle_open_class,
    AssignClassTeacher: handle_assign_class_teacher,
    EnrolStudent: handle_enrol_student,
    WithdrawStudent: handle_withdraw_student,
    FormGroup: handle_form_group,
    AddGroupMember: handle_add_group_member,
    RemoveGroupMember: handle_remove_group_member,
    OpenIndividualCurriculum: handle_open_individual_curriculum,
    AssignTeacher: handle_assign_teacher,
    UnassignTeacher: handle_unassign_teacher,
    LinkParent: handle_link_parent,
    UnlinkParent: handle_unlink_parent,
    ImportKtp: handle_import_ktp,
    # The timetable, and the administration's decisions on one lesson (п. 2.2, 2.3).
    SetTimetable: handle_set_timetable,
    AssignSubstitute: handle_assign_substitute,
    CancelLesson: handle_cancel_lesson,
    # The journal (п. 2.3–2.7).
    ScheduleLesson: handle_schedule_lesson,
    SetLessonTopic: handle_set_lesson_topic,
    RecordAttendance: handle_record_attendance,
    RecordMark: handle_record_mark,
    RecordClassWorkMarks: handle_record_class_work_marks,
    CorrectMark: handle_correct_mark,
    CancelMark: handle_cancel_mark,
    AssignHomework: handle_assign_homework,
    AddComment: handle_add_comment,
    SendMessageToParents: handle_send_message_to_parents,
    # Attestation (п. 2.8).
    SetPeriodMark: handle_set_period_mark,
    SetYearMark: handle_set_year_mark,
    SetExamMark: handle_set_exam_mark,
    SetFinalMark: handle_set_final_mark,
    # Certified printouts and archives (п. 3.1), disposition (п. 3.3).
    RegisterSignatoryKey: handle_register_signatory_key,
    CertifyDocument: handle_certify_document,
    DisposeExpiredRecords: handle_dispose_expired_records,
    # Parents' e-mail digest (п. 1.6).
    RequestDigestSubscription: handle_request_digest_subscription,
    ConfirmDigestSubscription: handle_confirm_digest_subscription,
    CancelDigestSubscription: handle_cancel_digest_subscription,
    RecordDigestBounce: handle_record_digest_bounce,
}


def handle(command: Command[R], ledger: Ledger, *, attempts: int = ATTEMPTS) -> R:
    """Run ``command``'s handler and return its result.

    A handler loads everything afresh on each run, so when another write changed one of its
    aggregates first (``ConcurrentWriteError``, nothing written) it is simply run again, up to
    ``attempts`` times in all; the runs after the first take turns (``one_at_a_time``). Raises
    the handler's ``CommandError``, or ``Conflict`` (``conflict``) when every attempt met a
    concurrent write.
    """
    handler = HANDLERS[type(command)]
    try:
        return cast(R, handler(command, ledger))
    except ConcurrentWriteError:
        pass
    # The writers that lost a race run again one at a time, across the server's processes: run
    # together, all but one would lose again. A teacher's client may send a lesson's marks at
    # once, a request each: of 24 such commands in one process, run again together after random
    # waits, some were still refused after 8 runs.
    with ledger.database.one_at_a_time():
        for _ in range(attempts - 1):
            try:
                return cast(R, handler(command, ledger))
            except ConcurrentWriteError:
                continue
    raise refuse("conflict")


__all__ = [
    "ATTEMPTS",
    "CATALOGUE",
    "DEFAULT_BELL_SCHEDULE",
    "HANDLERS",
    "KEPT_REASONS",
    "AddComment",
    "AddGroupMember",
    "AddSubject",
    "AntedateBreachReceipt",
    "AssignClassTeacher",
    "AssignHomework",
    "AssignSubstitute",
    "AssignTeacher",
    "CancelDigestSubscription",
    "CancelLesson",
    "CancelMark",
    "CertifyDocument",
    "CloseSchoolYear",
    "Command",
    "CommandError",
    "ConductLesson",
    "ConfirmDigestSubscription",
    "Conflict",
    "CorrectMark",
    "DeclareHoliday",
    "DefineBellSchedule",
    "DefinePeriods",
    "DefineWorkType",
    "DisposeExpiredRecords",
    "DispositionResult",
    "EnrolStudent",
    "FormGroup",
    "GrantRole",
    "ImportKtp",
    "InvalidInput",
    "InvalidateSession",
    "IssueCredentials",
    "KeptLesson",
    "LinkParent",
    "LockAccount",
    "NotAllowed",
    "NotFound",
    "OpenClass",
    "OpenIndividualCurriculum",
    "OpenSchoolYear",
    "PeriodSpec",
    "RecordAttendance",
    "RecordClassWorkMarks",
    "RecordDigestBounce",
    "RecordMark",
    "RegisterAccount",
    "RegisterSchool",
    "RegisterSignatoryKey",
    "RemoveGroupMember",
    "ReopenSchoolYear",
    "ReportBreach",
    "RequestDigestSubscription",
    "RevokeRole",
    "ScheduleLesson",
    "SendMessageToParents",
    "SetExamMark",
    "SetFinalMark",
    "SetLessonTopic",
    "SetPeriodMark",
    "SetTimetable",
    "SetYearMark",
    "TimetableChange",
    "TimetableEntry",
    "UnassignTeacher",
    "UnlinkParent",
    "UnlockAccount",
    "WithdrawStudent",
    "actor_for",
    "class_work_mark_id",
    "handle",
    "load_roster",
    "school_zone",
]
