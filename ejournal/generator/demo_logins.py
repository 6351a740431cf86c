"""Logins for the demo school: every demo account gets a password, and the roles the demo itself
creates no account for (a student, a parent, an auditor, support, a system administrator) get one.

The demo (``generator.demo.run_demo``) records a school and a week of its journal through the
commands; this adds only what a person needs to log in and look at it through the API, plus the
names of everyone in the school in the vault (``generator.names``), as a school enters them.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ejournal import commands as c
from ejournal.generator.demo import DEMO_SEED, demo_plan
from ejournal.generator.names import school_names
from ejournal.identity.authenticator import Authenticator
from ejournal.identity.vault import PersonalData, Vault
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Account, Guardianship, SchoolClass
from ejournal.ledger.recorders import EVENTS_TABLE

DEMO_PASSWORD = "ejournal-demo"
STAFF_LOGINS = {
    "direktor": "руководитель ОУ",
    "zavuch": "заместитель руководителя",
    "t.russkiy": "учитель русского языка, классный руководитель 5«А»",
    "t.matematika": "учитель математики",
    "t.angliyskiy2": "учитель английского языка, классный руководитель 10«Б»",
}


@dataclass(frozen=True, slots=True)
class DemoLogin:
    login: str
    who: str


def _first_guardianship(ledger: Ledger, school_id: UUID) -> Guardianship:
    database = ledger.database
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic LIKE ? ORDER BY log_id, idx "
            "LIMIT 1",
            ("%:Guardianship.Opened",),
        )
        row = cursor.fetchone()
    assert row is not None, "the demo links parents"
    guardianship = ledger.find(UUID(str(row[0])), Guardianship)
    assert guardianship is not None and guardianship.school_id == school_id
    return guardianship


def _register(ledger: Ledger, login: str, person_id: UUID, role: Role, school: UUID | None) -> UUID:
    account_id = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login=login, person_id=person_id), ledger
    )
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=account_id, role=role, school_id=school),
        ledger,
    )
    return account_id


def provision_demo_logins(
    ledger: Ledger,
    auth: Authenticator,
    vault: Vault | None,
    school_id: UUID,
    year_start: int,
    *,
    seed: int = DEMO_SEED,
) -> list[DemoLogin]:
    """Give the demo's people logins with ``DEMO_PASSWORD`` (and names in ``vault``, if there is
    one); returns them, for the terminal."""
    guardianship = _first_guardianship(ledger, school_id)
    student = guardianship.student_id
    parent = sorted(guardianship.parent_ids)[0]
    fifth_a = SchoolClass.create_id(school_id=school_id, year_start=year_start, grade=5, letter="А")
    assert ledger.find(fifth_a, SchoolClass) is not None
    extra = {
        "uchenik": (student, Role.STUDENT, school_id, "ученик 5«А»"),
        "roditel": (parent, Role.PARENT, school_id, "родитель ученика 5«А»"),
        "auditor": (UUID(int=0xA0D170), Role.AUDITOR, None, "аудитор"),
        "podderzhka": (UUID(int=0x50990), Role.SUPPORT, None, "техническая поддержка"),
        "sysadmin": (UUID(int=0x5A), Role.SYSTEM_ADMIN, None, "системный администратор"),
    }
    logins = [DemoLogin(login, who) for login, who in STAFF_LOGINS.items()]
    for login in STAFF_LOGINS:
        auth.provision(Account.create_id(login=login), DEMO_PASSWORD)
    for login, (person, role, school, who) in extra.items():
        account_id = _register(ledger, login, person, role, school)
        auth.provision(account_id, DEMO_PASSWORD)
        logins.append(DemoLogin(login, who))
    if vault is not None:
        now = ledger.clock()
        (spec,) = demo_plan(seed).schools
        names = dict(school_names(spec, seed))
        # The family the README's tour logs in as: the same names whatever the draw gives.
        names |= {student: "Алиев Магомед Расулович", parent: "Алиева Патимат Ибрагимовна"}
        for person, name in names.items():
            vault.put(person, PersonalData(name), school_id=school_id, now=now)
    return logins
