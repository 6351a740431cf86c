"""Names in what the API returns (п. 1.7, I9): who sees them, whom a response shows, and the join
at read time.

A response that shows people carries ``names``: the display name (``identity.names``: a pupil
«Иванова Мария», an adult «Петрова А. С.», «данные удалены», «имя не внесено») of each person it
shows, keyed by the ID it shows them by: a person's (``student_id``, ``teacher_id``,
``author_id``, an access-log entry's ``subject_id``) or an account's (a provenance's
``actor_id``, who recorded the value; an access-log entry's ``reader_account_id``).

Who sees them (``shows_names``): the staff of the school whose data is read (head, deputy,
teacher, class teacher), and the student and the parents in their diary (the child and the
teachers). Auditors verify records and get IDs only: the brief gives them no personal data unless
granted; support and system administrators read no journal. For them ``names`` is empty. The
route authorises the read and logs the children it shows (п. 1.7) as before; a name shows no
child the read did not already show.

Names are joined after the read models were read, and after a rendered diary was taken from its
cache (``with_names``), never stored with either: a name changed or forgotten in the vault shows
at the next read, in every process, and nothing cached for one reader carries a name to another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar
from uuid import UUID

import orjson

from ejournal.api.schemas.reads import ClassJournalOut, MonitorOut, SummarySheetOut
from ejournal.identity.names import FORGOTTEN, NOT_ENTERED, Names, Style, Wanted, names_of
from ejournal.identity.vault import FULL_NAMES_BATCH, full_names_query
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.async_database import AsyncDatabase, Statement
from ejournal.ledger.domain import Account
from ejournal.projections.views import Diary

NAMED_ROLES = frozenset(
    {Role.HEAD, Role.DEPUTY, Role.TEACHER, Role.CLASS_TEACHER, Role.STUDENT, Role.PARENT}
)
"""The roles whose reads show names: the school's staff, and the family (only ever reading their
own child's diary). Not the auditors, support or system administrators."""


_Row = TypeVar("_Row")


def shows_names(role: Role) -> bool:
    """Whether a read made as ``role`` (what the policy returned) shows people's names."""
    return role in NAMED_ROLES


class _Recorded(Protocol):
    @property
    def actor_id(self) -> UUID: ...


class _Changed(Protocol):
    @property
    def provenance(self) -> _Recorded: ...


class People:
    """The people one response shows: pupils, adults, and accounts (who recorded what)."""

    def __init__(self) -> None:
        self._people: dict[UUID, Style] = {}
        self._accounts: dict[UUID, Style] = {}

    def pupil(self, person_id: UUID | None) -> None:
        if person_id is not None:
            self._people.setdefault(person_id, Style.PUPIL)

    def adult(self, person_id: UUID | None) -> None:
        if person_id is not None:
            self._people.setdefault(person_id, Style.ADULT)

    def account(self, account_id: UUID, style: Style = Style.ADULT) -> None:
        """The person of an account: shown under the account's ID."""
        self._accounts.setdefault(account_id, style)

    def recorded(self, provenance: _Recorded | None, history: Iterable[_Changed] = ()) -> None:
        """Who recorded a value, and each change of it (п. 1.4)."""
        if provenance is not None:
            self.account(provenance.actor_id)
        for change in history:
            self.account(change.provenance.actor_id)

    def wanted(self, ledger: Ledger) -> dict[UUID, tuple[UUID, Style]]:
        """Each ID to name → (its person, the style): an account's person from the ledger (an
        account never changes its person). An account the ledger does not hold (the service's
        own, ``SYSTEM_ACTOR``) names nobody and is left out."""
        wanted = {person: (person, style) for person, style in self._people.items()}
        for account_id, style in self._accounts.items():
            account = ledger.find(account_id, Account)
            if account is not None:
                wanted.setdefault(account_id, (account.person_id, style))
        return wanted


def joined(names: Names, ledger: Ledger, role: Role, people: People) -> dict[UUID, str]:
    """The names of ``people`` for a reader acting as ``role``: empty unless it ``shows_names``.
    Raises ``VaultError`` for a row the key cannot open."""
    if not shows_names(role) or names.vault is None:
        return {}
    return names.display(people.wanted(ledger))


def names_statement(names: Names, wanted: Wanted | None) -> Statement | None:
    """The vault's query for the people of ``wanted``, to send in a round trip made anyway (the
    diary's access-log entry, ``GroupedEntries.write_and_read``); None when there is no vault,
    nobody to name, or more than one query's worth."""
    if names.vault is None or not wanted:
        return None
    persons = list(dict.fromkeys(person for person, _ in wanted.values()))
    return full_names_query(persons) if len(persons) <= FULL_NAMES_BATCH else None


def names_from_rows(names: Names, wanted: Wanted, rows: list[Any]) -> dict[UUID, str]:
    """``Names.display`` of ``wanted`` from the rows of its ``names_statement``."""
    vault = names.vault
    return {} if vault is None else names_of(wanted, vault.full_names_of(rows))


async def display_on_loop(names: Names, aio: AsyncDatabase, wanted: Wanted) -> dict[UUID, str]:
    """``Names.display`` with the vault's rows read on the event loop (the diary's fast path),
    in a round trip shared with other reads asking for the same people. Raises
    ``DatabaseUnavailableError``, ``VaultError``."""
    vault = names.vault
    if vault is None or not wanted:
        return {}
    persons = list(dict.fromkeys(person for person, _ in wanted.values()))
    rows = []
    for start in range(0, len(persons), FULL_NAMES_BATCH):
        (found,) = await aio.shared(full_names_query(persons[start : start + FULL_NAMES_BATCH]))
        rows.extend(found)
    return names_of(wanted, vault.full_names_of(rows))


def with_names(rendered: bytes, names: Mapping[UUID, str]) -> bytes:
    """``rendered``, a JSON object rendered without ``names``, with ``names`` as its last member:
    a rendered diary is cached without them (see the module's docstring)."""
    shown = orjson.dumps({str(shown_id): name for shown_id, name in names.items()})
    return rendered[:-1] + b',"names":' + shown + b"}"


def class_order(
    rows: Iterable[_Row], names: Mapping[UUID, str], pupil: Callable[[_Row], UUID]
) -> list[_Row]:
    """``rows`` in the order of a class list, by the pupil's name as shown (ё as е), and by ID
    where names are the same or not shown; pupils with no name to show («имя не внесено»,
    «данные удалены») last."""

    def key(row: _Row) -> tuple[bool, str, str]:
        person = pupil(row)
        name = names.get(person, NOT_ENTERED)
        unnamed = name in (FORGOTTEN, NOT_ENTERED)
        return unnamed, "" if unnamed else name.casefold().replace("ё", "е"), str(person)

    return sorted(rows, key=key)


# --- whom each read shows -----------------------------------------------------------------------


def journal_people(page: ClassJournalOut) -> People:
    """The pupils of the page, the teachers of its lessons, and who recorded each lesson,
    homework and mark, and each of their changes."""
    people = People()
    for row in page.rows:
        people.pupil(row.student_id)
        for cell in row.cells:
            for mark in cell.marks:
                people.recorded(mark.provenance, mark.history)
    for lesson in page.lessons:
        people.adult(lesson.teacher_id)
        people.adult(lesson.substitute_for)
        people.recorded(lesson.provenance)
        if lesson.homework is not None:
            people.recorded(None, lesson.homework.history)
    return people


def diary_people(diary: Diary, *, provenance: bool) -> People:
    """The student, the teachers of the lessons and the authors of the messages; with
    ``provenance`` (the staff's diary) who recorded each value too. The family's diary shows no
    provenance, so none of its names either."""
    people = People()
    people.pupil(diary.student_id)
    for day in diary.days:
        for entry in day.lessons:
            lesson = entry.lesson
            people.adult(lesson.teacher_id)
            people.adult(lesson.substitute_for)
            if provenance:
                people.recorded(lesson.provenance)
                if lesson.homework is not None:
                    people.recorded(None, lesson.homework.history)
                for mark in entry.marks:
                    people.recorded(mark.provenance, mark.history)
                for comment in entry.comments:
                    people.recorded(comment.provenance)
        for message in day.messages:
            people.adult(message.author_id)
            if provenance:
                people.recorded(message.provenance)
    return people


def summary_people(sheet: SummarySheetOut) -> People:
    """The pupils of the sheet, and who set each attestation mark and each of its values."""
    people = People()
    for row in sheet.rows:
        people.pupil(row.student_id)
        for cell in row.cells:
            for mark in (*cell.periods, cell.year, cell.exam, cell.final):
                if mark is not None:
                    people.recorded(mark.provenance, mark.history)
    return people


def monitor_people(found: MonitorOut) -> People:
    """The teacher and the pupil each flag names."""
    people = People()
    for flag in found.flags:
        people.adult(flag.teacher_id)
        people.pupil(flag.student_id)
    return people
