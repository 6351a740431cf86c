"""The words of a mark's receipt (п. 1.5, 1.6, 2.10): what it proves, in Russian, as a school
writes it to a parent. Dates as ДД.ММ.ГГГГ, times in the school's time zone.

The facts come from the proven payloads (``ledger.mark_receipts.MarkFacts``); the names of the
school, the subject and the type of work from the ledger and the read models, and the people's
names from the vault (``api.names``), only for a reader who may see them. The words are shown,
not proven: the receipt's ``mark`` is what ``ejournal verify-proof`` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ejournal.integrity.leaf import from_micros
from ejournal.ledger.mark_receipts import MarkFacts


@dataclass(frozen=True, slots=True, kw_only=True)
class Labels:
    """What no payload holds: the names the receipt's words use (None: not shown)."""

    school: str
    subject: str
    work_type: str
    student: str | None
    teacher: str | None


def day(on: date) -> str:
    """ДД.ММ.ГГГГ."""
    return on.strftime("%d.%m.%Y")


def moment(micros: int, zone: ZoneInfo) -> str:
    """ДД.ММ.ГГГГ в ЧЧ:ММ in ``zone``, and which time that is."""
    local = from_micros(micros).astimezone(zone)
    return f"{day(local.date())} в {local:%H:%M} ({_zone_words(zone)})"


def _zone_words(zone: ZoneInfo) -> str:
    if zone.key == "Europe/Moscow":
        return "время московское"
    offset = datetime.now(zone).strftime("%z")
    return f"время местное, {zone.key}, UTC{offset[:3]}:{offset[3:]}"


def _weight(facts: MarkFacts) -> str:
    text = f"{facts.weight.normalize():f}"
    return text.replace(".", ",")


def explanation(facts: MarkFacts, names: Labels, zone: ZoneInfo) -> str:
    """The receipt's words for people: the mark, what proves it, and how to check it."""
    lines = ["КВИТАНЦИЯ ОБ ОТМЕТКЕ В ЭЛЕКТРОННОМ ЖУРНАЛЕ", "", f"Школа: {names.school}"]
    if names.student is not None:
        lines.append(f"Ученик: {names.student}")
    lines += [
        f"Предмет: {names.subject}",
        f"Урок: {day(facts.on)}, {facts.slot}-й урок",
    ]
    if names.teacher is not None:
        lines.append(f"Учитель: {names.teacher}")
    lines += [
        f"Вид работы: {names.work_type} (вес {_weight(facts)})",
        f"Отметка: {facts.value}",
        f"Выставлена: {moment(facts.recorded_at, zone)}",
    ]
    if facts.corrected_at is not None:
        lines.append(
            f"Исправлена: {moment(facts.corrected_at, zone)}; отметка выше — после исправления"
        )
    lines += [
        "",
        "Что подтверждает квитанция. Записи об этой отметке есть в журнале записей школы "
        f"«{facts.log_id}», подписанном школой (контрольная точка из {facts.checkpoint_size} "
        f"записей, подпись «{', '.join(facts.signed_by)}»). Запись в таком журнале нельзя "
        "незаметно изменить или удалить: изменённая запись не сойдётся с подписью. Квитанция "
        "доказывает значение отметки, дату и номер урока, ученика, предмет, учителя, вид работы "
        "и его вес (по их номерам в журнале; названия и имена выше даны по данным школы), а "
        "также время, когда отметку выставили"
        + (" и исправили." if facts.corrected_at is not None else "."),
        "",
        "Как проверить. Без интернета и без доступа к журналу: программой ejournal, командой "
        "«ejournal verify-proof <файл квитанции> --key <файл ключей>», где файл ключей — "
        "открытые ключи проверки, которые публикует школа или управление образованием. "
        "Квитанцию нужно хранить без изменений: изменённый файл проверку не пройдёт.",
    ]
    return "\n".join(lines) + "\n"
