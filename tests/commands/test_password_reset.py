"""Who may reset a password (п. 2.1, 4.1–4.2), on SQLite and PostgreSQL: a reset hands its author
a one-time password, and with it the account until its holder changes it. A system administrator,
who may grant any role anyway, resets any account; support only the accounts of people without
journal or personal-data access (no role but support, or none yet)."""

from __future__ import annotations

import pytest

from ejournal import commands as c
from ejournal.commands.errors import NotAllowed
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.domain import Account
from tests.commands.school import TestSchool, refused, uid


@pytest.mark.parametrize(
    ("target", "role", "in_school"),
    [
        ("pupil", Role.STUDENT, True),
        ("mother", Role.PARENT, True),
        ("teacher", Role.TEACHER, True),
        ("deputy", Role.DEPUTY, True),
        ("head", Role.HEAD, True),
        ("auditor", Role.AUDITOR, False),
        ("admin", Role.SYSTEM_ADMIN, False),
    ],
)
def test_support_resets_no_password_of_anyone_with_journal_or_personal_data_access(
    school: TestSchool, target: str, role: Role, in_school: bool
) -> None:
    # п. 2.1: support, which has no journal access, would be handed the login.
    support = school.account("podderzhka", Role.SUPPORT, school=False)
    account_id = school.account(f"{target}.x", role, school=in_school).account_id
    with refused(school.ledger, NotAllowed, "account.reset_not_allowed"):
        c.handle(
            c.IssueCredentials(actor=support, account_id=account_id, reset=True), school.ledger
        )
    # Also when the account holds support besides.
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=account_id, role=Role.SUPPORT), school.ledger
    )
    with refused(school.ledger, NotAllowed, "account.reset_not_allowed"):
        c.handle(
            c.IssueCredentials(actor=support, account_id=account_id, reset=True), school.ledger
        )


def test_support_resets_a_colleague_itself_and_an_account_with_no_role_yet(
    school: TestSchool,
) -> None:
    support = school.account("podderzhka", Role.SUPPORT, school=False)
    colleague = school.account("podderzhka2", Role.SUPPORT, school=False).account_id
    newcomer = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="newcomer", person_id=uid(9999)),
        school.ledger,
    )
    for account_id in (colleague, newcomer, support.account_id):  # itself last: it ends its own
        version = c.handle(
            c.IssueCredentials(actor=support, account_id=account_id, reset=True), school.ledger
        )
        assert school.ledger.get(account_id, Account).credential_version == version


def test_a_system_administrator_resets_anyone_also_when_support_too(school: TestSchool) -> None:
    admin = school.account("admin", Role.SYSTEM_ADMIN, school=False)
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=admin.account_id, role=Role.SUPPORT),
        school.ledger,
    )
    admin = c.actor_for(school.ledger, admin.account_id)
    other_admin = school.account("admin2", Role.SYSTEM_ADMIN, school=False).account_id
    for account_id in (school.maths.account_id, school.head.account_id, other_admin):
        c.handle(c.IssueCredentials(actor=admin, account_id=account_id, reset=True), school.ledger)


def test_issuing_credentials_without_a_reset_stays_with_support(school: TestSchool) -> None:
    # No password is handed over (the holder's own change goes this way, as the service).
    support = school.account("podderzhka", Role.SUPPORT, school=False)
    version = c.handle(
        c.IssueCredentials(actor=support, account_id=school.maths.account_id), school.ledger
    )
    assert version == school.maths.credential_version + 1
