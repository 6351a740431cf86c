"""The journal's aggregates and their events.

Aggregates are small (a lesson, not a year's page) and carry only person IDs (I9). Those that
commands must find by a natural key have deterministic IDs (``create_id``, a UUID5 of the key).
Every aggregate of a school's year records its ``school_id`` and ``year_start``: its events belong
to that school year's log (I1). Schools and accounts belong to no year; their events go to the
system log.

Aggregate methods take the time of the record (``at``, the server clock) and assume the command
handler has already checked roles, membership and values: they record, they do not judge.
"""

from ejournal.ledger.domain.accounts import Account
from ejournal.ledger.domain.assignments import TeachingAssignment
from ejournal.ledger.domain.attestation import AttestationRecord
from ejournal.ledger.domain.breach import BreachReport, SessionInvalidation
from ejournal.ledger.domain.certification import DocumentCertification, SignatoryKey
from ejournal.ledger.domain.disposition import DispositionAct
from ejournal.ledger.domain.enrolment import Enrolment
from ejournal.ledger.domain.lesson import Lesson
from ejournal.ledger.domain.messages import ParentMessage
from ejournal.ledger.domain.people import Guardianship
from ejournal.ledger.domain.plan import ThematicPlan
from ejournal.ledger.domain.rosters import Group, IndividualCurriculum, Roster, SchoolClass
from ejournal.ledger.domain.school import School, SchoolYear
from ejournal.ledger.domain.subscriptions import MailSubscription
from ejournal.ledger.domain.timetable import SchoolTimetable, Timetable, TimetableEntry
from ejournal.ledger.domain.topics import pin_topics

SYSTEM_KINDS: tuple[type, ...] = (School, Account, BreachReport, SessionInvalidation)
"""The aggregates of the system log: they belong to no school, and in a region live in the
directory database (``ledger.placement``)."""

__all__ = [
    "SYSTEM_KINDS",
    "Account",
    "AttestationRecord",
    "BreachReport",
    "Enrolment",
    "Group",
    "Guardianship",
    "IndividualCurriculum",
    "Lesson",
    "MailSubscription",
    "ParentMessage",
    "Roster",
    "School",
    "SchoolClass",
    "SchoolTimetable",
    "SchoolYear",
    "SessionInvalidation",
    "TeachingAssignment",
    "ThematicPlan",
    "Timetable",
    "TimetableEntry",
]

pin_topics(
    Account,
    AttestationRecord,
    BreachReport,
    DispositionAct,
    DocumentCertification,
    Enrolment,
    Group,
    Guardianship,
    IndividualCurriculum,
    Lesson,
    MailSubscription,
    ParentMessage,
    School,
    SchoolClass,
    SchoolTimetable,
    SchoolYear,
    SessionInvalidation,
    SignatoryKey,
    TeachingAssignment,
    ThematicPlan,
    Timetable,
)
