"""Why a command was refused: one root error, four kinds, and the catalogue of stable codes.

Every refusal is a ``CommandError`` with a stable machine ``code``, the regulation ``clause`` it
enforces (where one applies) and a Russian ``message`` for people. The kind says how the API
answers: ``NotAllowed`` → 403, ``NotFound`` → 404, ``InvalidInput`` → 422, ``Conflict`` → 409; only
``api/`` knows those numbers. A refused command has written nothing.

Raise one with ``raise refuse("mark.invalid_value", value=6)``: the code decides kind, clause and
message, so the same refusal reads the same everywhere. ``CATALOGUE`` lists every code.

Messages are read by people, as a Russian school writes: ``refuse`` fills a template with each
value as such a school writes it, whatever the caller passes: a date as ДД.ММ.ГГГГ, a moment as
ДД.ММ.ГГГГ ЧЧ:ММ Moscow time, a role (or roles) by its Russian name, a failed verification by
what failed (``verification_detail``), never an ISO date or an English word.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ejournal.integrity.errors import (
    MalformedCertificateError,
    MalformedNoteError,
    MalformedVerifierKeyError,
    OriginMismatchError,
    SignatureError,
    UnknownKeyError,
    VerificationError,
)
from ejournal.ledger.actor import Role
from ejournal.ledger.domain.values import PeriodScheme


class CommandError(Exception):
    """A command was refused; nothing was written."""

    def __init__(self, code: str, message: str, *, clause: str | None = None) -> None:
        super().__init__(code, message, clause)
        self.code = code
        self.message = message
        self.clause = clause

    def __str__(self) -> str:
        where = f" ({self.clause})" if self.clause else ""
        return f"{self.code}: {self.message}{where}"

    def __reduce__(self) -> tuple[object, ...]:
        # The default pickling calls the class with ``args``, where ``clause`` is keyword-only:
        # a refusal in a process of ``generate --jobs`` reaches the parent whole this way.
        return (_rebuild, (type(self), self.code, self.message, self.clause))


def _rebuild(cls: type[CommandError], code: str, message: str, clause: str | None) -> CommandError:
    return cls(code, message, clause=clause)


class NotAllowed(CommandError):
    """The actor may not do this (role, assignment, account state)."""


class NotFound(CommandError):
    """Something the command names does not exist."""


class InvalidInput(CommandError):
    """A value breaks a rule of the journal."""


class Conflict(CommandError):
    """The command contradicts the current state (already done, closed, concurrent writes)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: type[CommandError]
    message: str
    clause: str | None = None


CATALOGUE: dict[str, Refusal] = {
    # Who acts (п. 2.1, 4.1–4.4).
    "account.unknown": Refusal(NotAllowed, "Учётная запись не найдена.", "п. 2.1"),
    "account.locked": Refusal(NotAllowed, "Учётная запись заблокирована.", "п. 4.4"),
    "account.credentials_revoked": Refusal(
        NotAllowed, "Данные для входа выданы заново; войдите повторно.", "п. 4.2"
    ),
    "account.compromised": Refusal(
        NotAllowed,
        "Вход заблокирован: сообщено о нарушении конфиденциальности. Получите новые данные для "
        "входа у системного администратора.",
        "п. 4.4",
    ),
    "role.required": Refusal(NotAllowed, "Нет прав: требуется роль {roles}.", "п. 2.1"),
    "setup.administration_only": Refusal(
        NotAllowed,
        "Разделы учебного года формирует только администрация ОУ (руководитель, заместитель).",
        "п. 2.2",
    ),
    "journal.not_a_teacher": Refusal(
        NotAllowed, "Записи в электронный журнал вносит только учитель-предметник.", "п. 2.3"
    ),
    "journal.not_assigned": Refusal(
        NotAllowed,
        "Учитель не ведёт этот предмет у этого класса, группы или ученика.",
        "п. 2.3",
    ),
    "journal.class_teacher_read_only": Refusal(
        NotAllowed,
        "Классный руководитель просматривает журнал своего класса без права редактирования.",
        "п. 2.4",
    ),
    # Schools and school years (п. 2.2).
    "school.not_found": Refusal(NotFound, "Образовательное учреждение не найдено."),
    "school.already_registered": Refusal(Conflict, "Образовательное учреждение уже создано."),
    "school.invalid_name": Refusal(InvalidInput, "Не указано название ОУ."),
    "school.invalid_time_zone": Refusal(InvalidInput, "Неизвестный часовой пояс «{time_zone}»."),
    "year.not_found": Refusal(NotFound, "Учебный год {year} не открыт.", "п. 2.2"),
    "year.already_open": Refusal(Conflict, "Учебный год {year} уже открыт.", "п. 2.2"),
    "year.invalid_dates": Refusal(InvalidInput, "Неверные даты учебного года: {dates}."),
    "year.closed": Refusal(Conflict, "Учебный год закрыт: записи не принимаются.", "п. 2.11"),
    "year.not_closed": Refusal(Conflict, "Учебный год не закрыт."),
    "year.already_closed": Refusal(
        Conflict,
        "Учебный год {year} уже закрыт: повторно он не закрывается. Чтобы закрыть его заново, "
        "сначала откройте его с указанием причины.",
        "п. 2.11",
    ),
    "period.unknown_scheme": Refusal(InvalidInput, "Неизвестная схема периодов «{scheme}»."),
    "period.scheme_not_defined": Refusal(
        InvalidInput, "Периоды по схеме «{scheme}» в этом учебном году не заданы.", "п. 2.2"
    ),
    "period.invalid": Refusal(InvalidInput, "Неверные периоды: {detail}."),
    "holiday.invalid": Refusal(InvalidInput, "Неверные каникулы: {detail}."),
    "subject.invalid_name": Refusal(InvalidInput, "Не указано название предмета."),
    "subject.duplicate": Refusal(Conflict, "Предмет «{name}» уже есть."),
    "subject.not_found": Refusal(NotFound, "Предмет не найден в этом учебном году."),
    "work_type.invalid": Refusal(InvalidInput, "Неверный вид работы: {detail}.", "п. 2.6"),
    "work_type.duplicate": Refusal(Conflict, "Вид работы «{name}» уже есть.", "п. 2.6"),
    "work_type.unknown": Refusal(InvalidInput, "Неизвестный вид работы.", "п. 2.6"),
    "bell.invalid_slots": Refusal(InvalidInput, "Неверное расписание звонков: {detail}."),
    "bell.unknown_schedule": Refusal(InvalidInput, "Расписание звонков «{name}» не задано."),
    "bell.unknown_slot": Refusal(InvalidInput, "В расписании звонков нет урока № {slot}."),
    # Classes, groups, curricula, assignments, parents.
    "class.invalid_grade": Refusal(InvalidInput, "Параллель должна быть от 1 до 11, а не {grade}."),
    "class.invalid_letter": Refusal(InvalidInput, "Литера класса — одна буква: «{letter}»."),
    "class.already_open": Refusal(Conflict, "Класс {name} уже открыт."),
    "class.not_found": Refusal(NotFound, "Класс не найден."),
    "roster.not_found": Refusal(
        NotFound, "Класс, группа или индивидуальный учебный план не найдены."
    ),
    "group.not_found": Refusal(NotFound, "Группа не найдена."),
    "group.invalid_name": Refusal(InvalidInput, "Не указано название группы."),
    "group.already_formed": Refusal(Conflict, "Группа «{name}» уже есть."),
    "group.already_member": Refusal(Conflict, "Ученик уже в группе."),
    "group.not_a_member": Refusal(Conflict, "Ученика нет в группе."),
    "curriculum.already_open": Refusal(Conflict, "Индивидуальный учебный план уже открыт."),
    "roster.subject_mismatch": Refusal(
        InvalidInput, "Группа или индивидуальный план относится к другому предмету."
    ),
    "student.already_enrolled": Refusal(Conflict, "Ученик уже зачислен в класс."),
    "student.not_enrolled": Refusal(Conflict, "Ученик не числится в классе."),
    "student.not_in_class": Refusal(InvalidInput, "Ученик не числится в классе на {on}."),
    "student.not_in_roster": Refusal(
        InvalidInput, "Ученик не числится в классе, группе или плане урока на {on}.", "п. 2.3"
    ),
    "enrolment.invalid_date": Refusal(InvalidInput, "Дата {on} вне учебного года или неверна."),
    "student.of_another_school": Refusal(
        NotAllowed,
        "Ученик в этом учебном году зачислен в класс другого ОУ: перевод — после отчисления там.",
        "п. 2.2",
    ),
    "student.in_another_class": Refusal(
        Conflict,
        "Ученик уже зачислен в другой класс в этом учебном году: сначала отчислите его оттуда.",
        "п. 2.2",
    ),
    "student.not_in_school": Refusal(
        NotFound, "Ученик не зачислен в класс этого ОУ в этом учебном году.", "п. 1.6"
    ),
    "assignment.duplicate": Refusal(Conflict, "Учитель уже ведёт этот предмет."),
    "assignment.not_found": Refusal(NotFound, "Учитель не ведёт этот предмет."),
    "parent.already_linked": Refusal(Conflict, "Родитель уже связан с учеником."),
    "parent.not_linked": Refusal(Conflict, "Родитель не связан с учеником."),
    "plan.invalid_items": Refusal(InvalidInput, "Неверный КТП: {detail}.", "п. 2.6"),
    "plan.unknown_item": Refusal(InvalidInput, "В КТП нет пункта № {number}.", "п. 2.6"),
    # The timetable (п. 2.2) and what the administration decides of one lesson (п. 2.2, 2.3).
    "timetable.empty": Refusal(InvalidInput, "В расписании нет ни одного урока.", "п. 2.2"),
    "timetable.date_outside_year": Refusal(
        InvalidInput, "Расписание с {on}: дата вне учебного года.", "п. 2.2"
    ),
    "timetable.before_previous": Refusal(
        Conflict,
        "Расписание с {on} не может действовать раньше последней редакции (с {previous}): "
        "изменение вводится с её даты или позже.",
        "п. 2.2",
    ),
    "timetable.invalid_weekday": Refusal(
        InvalidInput,
        "{at}: день недели — от 1 (понедельник) до 6 (суббота), а не {weekday}.",
        "п. 2.2",
    ),
    "timetable.unknown_slot": Refusal(
        InvalidInput, "{at}: в расписании звонков класса нет урока № {slot}.", "п. 2.2"
    ),
    "timetable.roster_not_of_class": Refusal(
        InvalidInput,
        "{at}: класс, группа или индивидуальный учебный план не найдены в классе {class_name}.",
        "п. 2.2",
    ),
    "timetable.subject_not_of_roster": Refusal(
        InvalidInput,
        "{at}: предмета нет в учебном году, или группа (индивидуальный план) относится к "
        "другому предмету.",
        "п. 2.2",
    ),
    "timetable.teacher_not_assigned": Refusal(
        InvalidInput,
        "{at}: учитель не ведёт этот предмет у этого класса, группы или ученика на {on}.",
        "п. 2.3",
    ),
    "timetable.slot_taken": Refusal(
        InvalidInput,
        "{at}: у класса (или у группы, или у класса и его группы) два урока в одно время.",
        "п. 2.2",
    ),
    "timetable.teacher_busy": Refusal(
        InvalidInput, "{at}: учитель в это время ведёт урок в классе {other}.", "п. 2.2"
    ),
    "lesson.administration_only": Refusal(
        NotAllowed,
        "Замену учителя и отмену урока назначает администрация ОУ (руководитель, заместитель).",
        "п. 2.2",
    ),
    "lesson.cancelled": Refusal(Conflict, "Урок {on} отменён: записи в него не вносятся."),
    "lesson.already_cancelled": Refusal(Conflict, "Урок уже отменён."),
    "lesson.has_records": Refusal(
        Conflict,
        "В уроке уже есть записи (тема, посещаемость, отметки, домашнее задание, комментарии): "
        "отменённым он не становится.",
        "п. 1.4",
    ),
    "lesson.substituted": Refusal(
        NotAllowed, "Урок {on} ведёт учитель на замене: записи вносит он.", "п. 2.3"
    ),
    "substitution.lesson_kept": Refusal(
        Conflict,
        "В уроке уже есть записи учителя (посещаемость, отметки, домашнее задание, "
        "комментарии): замена назначается до них.",
        "п. 2.3",
    ),
    "substitution.same_teacher": Refusal(
        InvalidInput, "Замещающий учитель — тот же, кто ведёт урок.", "п. 2.3"
    ),
    "substitution.not_of_school": Refusal(
        InvalidInput,
        "Замещающий учитель не ведёт уроков по расписанию этого ОУ в этом учебном году.",
        "п. 2.3",
    ),
    "substitution.teacher_busy": Refusal(
        Conflict, "Замещающий учитель в это время ведёт урок в классе {other}.", "п. 2.3"
    ),
    # Lessons and what is written in them (п. 2.5–2.7).
    "lesson.not_found": Refusal(NotFound, "Урок не найден."),
    "lesson.already_scheduled": Refusal(Conflict, "Урок в это время уже есть."),
    "lesson.not_a_school_day": Refusal(
        InvalidInput, "{on} — не учебный день (воскресенье, каникулы или вне учебного периода)."
    ),
    "lesson.in_future": Refusal(InvalidInput, "Урок {on} ещё не наступил.", "п. 2.5"),
    "lesson.teacher_required": Refusal(InvalidInput, "Укажите учителя урока."),
    "lesson.topic_required": Refusal(InvalidInput, "Укажите тему урока или пункт КТП.", "п. 2.6"),
    "attendance.invalid_code": Refusal(
        InvalidInput, "Неизвестная отметка посещаемости «{code}»: допустимы Н, Б, П, ОП.", "п. 2.5"
    ),
    "mark.invalid_value": Refusal(InvalidInput, "Отметка должна быть от 1 до 5, а не {value}."),
    "mark.not_found": Refusal(NotFound, "Отметка не найдена."),
    "mark.cancelled": Refusal(Conflict, "Отметка уже отменена."),
    "mark.unchanged": Refusal(InvalidInput, "Новое значение совпадает с прежним."),
    "mark.reason_required": Refusal(
        InvalidInput, "Исправление и отмена отметки требуют причины.", "п. 1.4"
    ),
    "mark.check_date_required": Refusal(
        InvalidInput, "Для письменной работы укажите дату завершения проверки.", "п. 2.5"
    ),
    "mark.check_date_invalid": Refusal(
        InvalidInput,
        "Дата завершения проверки {checked_on} раньше урока или ещё не наступила.",
        "п. 2.5",
    ),
    "mark.check_date_unexpected": Refusal(
        InvalidInput, "Дата проверки указывается только для письменных работ.", "п. 2.5"
    ),
    "marks.empty": Refusal(InvalidInput, "Нет ни одной отметки."),
    "homework.empty": Refusal(InvalidInput, "Укажите содержание домашнего задания.", "п. 2.7"),
    "homework.invalid_due_date": Refusal(
        InvalidInput, "Срок выполнения {due_on} не позже даты урока.", "п. 2.7"
    ),
    "comment.empty": Refusal(InvalidInput, "Пустой комментарий.", "п. 1.5"),
    "message.empty": Refusal(InvalidInput, "Пустое сообщение родителям.", "п. 1.5"),
    # Attestation (п. 2.8).
    "attestation.invalid_value": Refusal(
        InvalidInput,
        "Недопустимая итоговая отметка «{value}»: допустимы 1–5, ОСВ, Н/А, зачёт, незачёт.",
        "п. 2.8",
    ),
    "attestation.unknown_period": Refusal(
        InvalidInput, "В схеме класса нет периода «{period}».", "п. 2.8"
    ),
    "attestation.reason_required": Refusal(
        InvalidInput, "Отметка уже выставлена: для изменения укажите причину.", "п. 1.4"
    ),
    "attestation.unchanged": Refusal(InvalidInput, "Новое значение совпадает с прежним."),
    # Accounts (I8, п. 4).
    "account.not_found": Refusal(NotFound, "Учётная запись не найдена."),
    "account.invalid_login": Refusal(
        InvalidInput, "Логин: 3–64 символа, латинские буквы, цифры, «.», «_», «-»."
    ),
    "account.login_taken": Refusal(Conflict, "Логин «{login}» уже занят."),
    "account.role_not_grantable": Refusal(InvalidInput, "Роль «{role}» не выдаётся людям."),
    "account.invalid_grant_scope": Refusal(InvalidInput, "Роль «{role}» {scope}."),
    "account.already_granted": Refusal(Conflict, "Роль уже выдана."),
    "account.not_granted": Refusal(Conflict, "Такой роли у учётной записи нет."),
    "account.already_locked": Refusal(Conflict, "Учётная запись уже заблокирована."),
    "account.not_locked": Refusal(Conflict, "Учётная запись не заблокирована."),
    "account.reset_not_allowed": Refusal(
        NotAllowed,
        "Техническая поддержка сбрасывает пароль только учётных записей без доступа к журналу и "
        "персональным данным; этот пароль сбрасывает системный администратор.",
        "п. 2.1",
    ),
    # Certified printouts (п. 1.2, 3.1) and disposition (п. 3.3).
    "certification.head_only": Refusal(
        NotAllowed, "Документы заверяет руководитель ОУ своей подписью.", "п. 1.2"
    ),
    "certification.no_key": Refusal(
        Conflict, "Ключ подписи руководителя в этом учебном году не зарегистрирован.", "п. 3.1"
    ),
    "certification.invalid": Refusal(
        InvalidInput, "Неверная подпись документа: {detail}.", "п. 3.1"
    ),
    "certification.duplicate": Refusal(Conflict, "Этот документ уже заверен.", "п. 3.1"),
    "signatory.invalid_key": Refusal(InvalidInput, "Неверный ключ проверки подписи: {detail}."),
    "signatory.already_registered": Refusal(Conflict, "Этот ключ подписи уже зарегистрирован."),
    "disposition.not_a_school_log": Refusal(
        InvalidInput, "Журнал «{log_id}» не относится к учебному году ОУ."
    ),
    "disposition.not_allowed": Refusal(
        NotAllowed,
        "Уничтожение записей с истёкшим сроком хранения утверждает руководитель ОУ.",
        "п. 1.2",
    ),
    "disposition.nothing_due": Refusal(
        Conflict, "Нет записей с истёкшим сроком хранения на {on}.", "п. 3.3"
    ),
    # Parents' e-mail subscription to the weekly digest (п. 1.6).
    "subscription.not_a_parent": Refusal(
        NotAllowed,
        "Подписаться на рассылку дневника может только родитель (законный представитель) ученика.",
        "п. 1.6",
    ),
    "subscription.not_yours": Refusal(NotAllowed, "Это подписка другого родителя.", "п. 1.6"),
    "subscription.not_found": Refusal(NotFound, "Подписка на рассылку не найдена.", "п. 1.6"),
    "subscription.already_active": Refusal(
        Conflict,
        "Подписка уже действует; чтобы сменить адрес, сначала отпишитесь.",
        "п. 1.6",
    ),
    "subscription.not_pending": Refusal(Conflict, "Подписка не ожидает подтверждения.", "п. 1.6"),
    "subscription.stale_request": Refusal(
        Conflict,
        "Ссылка или код относятся к прежнему запросу подписки: используйте последнее письмо.",
        "п. 1.6",
    ),
    "subscription.already_cancelled": Refusal(Conflict, "Подписка уже отменена.", "п. 1.6"),
    "subscription.inactive": Refusal(Conflict, "Подписка не действует.", "п. 1.6"),
    "subscription.invalid_week": Refusal(
        InvalidInput, "Неверная неделя «{week}»: ожидается ГГГГ-Wнн, например 2025-W36.", "п. 1.6"
    ),
    # Any command.
    # Compromised logins (п. 4.3–4.4).
    "breach.not_allowed": Refusal(
        NotAllowed,
        "О нарушении сообщает сам участник, руководитель его ОУ или техническая поддержка.",
        "п. 4.3",
    ),
    "breach.already_reported": Refusal(
        Conflict, "О нарушении для этих данных входа уже сообщено.", "п. 4.3"
    ),
    "breach.not_found": Refusal(NotFound, "Сообщение о нарушении не найдено.", "п. 4.3"),
    "breach.naive_time": Refusal(
        InvalidInput, "Время «{what}» указано без часового пояса.", "п. 4.3"
    ),
    "breach.time_in_future": Refusal(InvalidInput, "Время «{what}» ещё не наступило.", "п. 4.3"),
    "breach.suspected_after_learned": Refusal(
        InvalidInput,
        "Начало подозрения не может быть позже, чем стало известно о нарушении.",
        "п. 4.3",
    ),
    "breach.received_before_learned": Refusal(
        InvalidInput,
        "Сообщение не могло быть получено раньше, чем участнику стало известно о нарушении.",
        "п. 4.3",
    ),
    "breach.receipt_not_yours": Refusal(
        NotAllowed,
        "Время получения указывает только получивший: руководитель ОУ или техническая поддержка.",
        "п. 4.3",
    ),
    "breach.receipt_not_earlier": Refusal(
        Conflict,
        "Время получения можно только уточнить назад: сообщение уже считается полученным "
        "{current}.",
        "п. 4.4",
    ),
    "session.not_in_school": Refusal(
        NotAllowed, "Учётная запись этого сеанса не относится к вашему ОУ.", "п. 4.4"
    ),
    "session.already_invalidated": Refusal(
        Conflict, "Операции этого сеанса уже признаны недействительными.", "п. 4.4"
    ),
    "reason.required": Refusal(InvalidInput, "Укажите причину.", "п. 1.4"),
    "record.duplicate_id": Refusal(Conflict, "Запись с таким идентификатором уже есть."),
    # Writes that keep colliding.
    "conflict": Refusal(
        Conflict, "Запись одновременно изменили другие пользователи; повторите попытку."
    ),
}
"""Every code a command can be refused with: its kind, Russian message template and clause."""


MOSCOW = ZoneInfo("Europe/Moscow")

ROLE_NAMES: dict[Role, str] = {
    Role.SYSTEM: "система",
    Role.SYSTEM_ADMIN: "системный администратор",
    Role.HEAD: "руководитель ОУ",
    Role.DEPUTY: "заместитель руководителя ОУ",
    Role.TEACHER: "учитель",
    Role.CLASS_TEACHER: "классный руководитель",
    Role.STUDENT: "ученик",
    Role.PARENT: "родитель (законный представитель)",
    Role.AUDITOR: "аудитор",
    Role.SUPPORT: "техническая поддержка",
}
"""Each role as the messages name it."""

SCHEME_NAMES: dict[PeriodScheme, str] = {
    PeriodScheme.QUARTERS: "четверти",
    PeriodScheme.HALF_YEARS: "полугодия",
    PeriodScheme.TRIMESTERS: "триместры",
}
"""Each scheme of reporting periods as the messages name it."""


def as_text(value: Any) -> Any:
    """``value`` as a message shows it: a date ДД.ММ.ГГГГ, a moment ДД.ММ.ГГГГ ЧЧ:ММ (Moscow
    time), a role or a scheme of periods by its Russian name, several roles joined by «или»;
    anything else (what a person typed, say) as is."""
    if isinstance(value, datetime):
        moment = value.astimezone(MOSCOW) if value.tzinfo is not None else value
        return f"{moment:%d.%m.%Y %H:%M} (МСК)"
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, Role):
        return ROLE_NAMES[value]
    if isinstance(value, PeriodScheme):
        return SCHEME_NAMES[value]
    roles = isinstance(value, Collection) and not isinstance(value, str) and value
    if roles and all(isinstance(item, Role) for item in value):
        return " или ".join(ROLE_NAMES[role] for role in sorted(value))
    return value


def verification_detail(error: VerificationError) -> str:
    """What a failed verification of a key, a note or a certificate says to a person."""
    if isinstance(error, MalformedVerifierKeyError):
        return "ключ проверки подписи имеет неверный формат"
    if isinstance(error, UnknownKeyError):
        return "подпись сделана неизвестным ключом"
    if isinstance(error, SignatureError):
        return "подпись не сходится с документом"
    if isinstance(error, OriginMismatchError):
        return "документ относится к другому журналу"
    if isinstance(error, MalformedNoteError | MalformedCertificateError):
        return "сертификат повреждён или имеет неверный формат"
    return "документ не прошёл проверку"


def refuse(code: str, /, **details: Any) -> CommandError:
    """The refusal for ``code``, its message filled with ``details`` (each ``as_text``); raise it.

    Raises ``KeyError`` for a code missing from ``CATALOGUE`` (a programming error).
    """
    refusal = CATALOGUE[code]
    text = {name: as_text(value) for name, value in details.items()}
    return refusal.kind(code, refusal.message.format(**text), clause=refusal.clause)
