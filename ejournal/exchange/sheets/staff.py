"""«Сотрудники»: the school's staff, by name, with a date of birth, e-mail and phone where the
school has them. A row enters the person into the personal-data vault; what they teach and which
class they lead come from «Нагрузка» and «Классы». A person the school already holds is recognised.
"""

from __future__ import annotations

from ejournal.exchange.cells import name_key
from ejournal.exchange.files import Cell
from ejournal.exchange.people import Kind
from ejournal.exchange.plan import Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import PERSON, Row, SheetKind
from ejournal.exchange.sheets.common import BIRTH_DATE, EMAIL, PHONE, details, name_parts


def plan_staff(rows: list[Row], plan: Plan) -> None:
    for row in rows:
        full_name = row.full_name()
        given = details(row)
        if full_name is None or row.bad:
            if full_name is not None:
                plan.spoiled.add(name_key(full_name))
            continue
        found = plan.people.matches(Kind.STAFF, full_name, given)
        earlier = [p for p in found if p.origin is not None and p.origin.sheet == row.ref.sheet]
        if earlier:
            assert earlier[0].origin is not None
            row.problem(None, f"сотрудник уже указан в строке {earlier[0].origin.row}")
        elif len(found) > 1:
            row.problem(
                None,
                f"в школе несколько человек с именем «{full_name}»: укажите дату рождения "
                "или e-mail",
            )
        elif found:
            found[0].kinds.add(Kind.STAFF)
            plan.counted(applied=False)
        else:
            plan.new_person(row, full_name, given, Kind.STAFF)
            plan.counted(applied=True)


def staff_rows(setup: SchoolSetup) -> list[list[Cell]]:
    staff = [p for p in setup.people.values() if Kind.STAFF in p.kinds]
    staff.sort(key=lambda p: (name_key(p.full_name), p.person_id.hex))
    return [
        [*name_parts(p.full_name), p.details.birth_date, p.details.email, p.details.phone]
        for p in staff
    ]


STAFF = SheetKind(
    name="staff",
    title="Сотрудники",
    aliases=("staff", "teachers", "учителя", "педагоги", "сотрудник", "кадры"),
    columns=(*PERSON, BIRTH_DATE, EMAIL, PHONE),
    order=20,
    plan=plan_staff,
    rows=staff_rows,
    widths=(18, 14, 18, 14, 28, 18),
)
