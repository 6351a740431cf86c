"""Every refusal as RFC 9457 problem details (``application/problem+json``) with a stable code.

Command refusals keep their own code, clause and Russian message (``commands.errors.CATALOGUE``);
this module adds the codes of the HTTP layer (authentication, read access, personal data, request
validation) and is the only place that knows which HTTP status each kind of refusal gets. Nothing a
client sends may produce a 500: validation errors are 422 problems, an unknown route a 404 problem,
and a database that is down a 503 problem (the client did nothing wrong and may retry).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ejournal.commands.errors import (
    CATALOGUE,
    CommandError,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    as_text,
)
from ejournal.identity.errors import AuthenticationError
from ejournal.identity.vault import VaultError
from ejournal.ledger.errors import ConcurrentWriteError, LedgerError
from ejournal.projections.errors import NotProjected

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:ejournal:problem:"

log = logging.getLogger("ejournal.api")


@dataclass(frozen=True, slots=True)
class ApiRefusal:
    status: int
    title: str
    clause: str | None = None


API_CATALOGUE: dict[str, ApiRefusal] = {
    # Authentication (п. 4.1–4.2).
    "auth.required": ApiRefusal(401, "Требуется вход в систему.", "п. 4.1"),
    "auth.invalid_token": ApiRefusal(
        401, "Сеанс недействителен или истёк; войдите заново.", "п. 4.2"
    ),
    "auth.invalid_credentials": ApiRefusal(401, "Неверный логин или пароль.", "п. 4.1"),
    "auth.throttled": ApiRefusal(
        429, "Слишком много неудачных попыток входа; повторите позже.", "п. 4.1"
    ),
    "auth.weak_password": ApiRefusal(
        422, "Пароль должен содержать от 10 до 128 символов и не совпадать с логином.", "п. 4.1"
    ),
    "auth.wrong_password": ApiRefusal(403, "Текущий пароль указан неверно.", "п. 4.1"),
    "auth.same_password": ApiRefusal(422, "Новый пароль должен отличаться от текущего.", "п. 4.2"),
    "auth.password_change_required": ApiRefusal(
        403,
        "Вход выполнен по временному паролю: смените пароль (POST /auth/password), прежде чем "
        "продолжить.",
        "п. 4.2",
    ),
    # Reading (п. 2.1–2.4, 1.6, 1.7).
    "access.denied": ApiRefusal(403, "Нет доступа к этим данным.", "п. 2.1"),
    "access.support_no_journal": ApiRefusal(
        403, "Техническая поддержка не имеет доступа к журналу.", "п. 2.1"
    ),
    # Personal data (п. 1.7).
    "person.not_found": ApiRefusal(404, "Персональные данные не найдены.", "п. 1.7"),
    "person.not_of_school": ApiRefusal(
        403,
        "Персональные данные впервые вносит администрация ОУ, к которому человек относится "
        "(ученик, родитель, работник), или системный администратор.",
        "п. 1.7",
    ),
    "person.forgotten": ApiRefusal(
        410, "Персональные данные уничтожены по истечении срока хранения.", "п. 1.7"
    ),
    "vault.unavailable": ApiRefusal(
        503,
        "Хранилище персональных данных недоступно (ключ шифрования не задан или неверен).",
        "п. 1.7",
    ),
    # Parents' e-mail (п. 1.6).
    "mail.unavailable": ApiRefusal(
        503, "Рассылка по электронной почте не настроена (нет SMTP-сервера).", "п. 1.6"
    ),
    "mail.link_invalid": ApiRefusal(
        404, "Ссылка недействительна или устарела; запросите новое письмо.", "п. 1.6"
    ),
    "mail.code_invalid": ApiRefusal(422, "Неверный или устаревший код подтверждения.", "п. 1.6"),
    # Printouts on request (п. 1.6, 2.9, 3.1).
    "printout.unavailable": ApiRefusal(
        503, "Распечатки не заверяются: у сервера нет ключа подписи.", "п. 3.1"
    ),
    "printout.not_signed_yet": ApiRefusal(
        503,
        "Журнал этого учебного года ещё не заверен контрольной точкой; повторите через "
        "несколько секунд.",
        "п. 3.1",
    ),
    # Read models and proofs.
    "session.not_found": ApiRefusal(404, "Сеанс не найден.", "п. 4.4"),
    "read.not_found": ApiRefusal(404, "Нет таких данных (или они ещё не обработаны)."),
    "receipt.not_provable": ApiRefusal(
        404, "Запись не найдена или ещё не покрыта подписанной контрольной точкой.", "п. 2.10"
    ),
    # Import (п. 2.2).
    "import.refused": ApiRefusal(
        422,
        "Файл не загружен: в нём есть ошибки (перечислены построчно), ничего не записано.",
        "п. 2.2",
    ),
    "export.one_sheet": ApiRefusal(
        422, "В файл CSV помещается один лист: укажите его (kind) или выберите XLSX."
    ),
    # The request itself.
    "request.invalid": ApiRefusal(422, "Запрос не прошёл проверку."),
    "request.not_found": ApiRefusal(404, "Нет такого адреса."),
    "request.method_not_allowed": ApiRefusal(405, "Метод не поддерживается для этого адреса."),
    "request.too_large": ApiRefusal(413, "Слишком большой запрос."),
    "request.unsupported_media_type": ApiRefusal(415, "Ожидается тело запроса в формате JSON."),
    # The service.
    "service.unavailable": ApiRefusal(503, "Сервис временно недоступен; повторите позже."),
}
"""Codes of the HTTP layer; command codes come from ``commands.errors.CATALOGUE``."""

_KIND_STATUS: dict[type[CommandError], int] = {
    NotAllowed: 403,
    NotFound: 404,
    InvalidInput: 422,
    Conflict: 409,
}


class FieldError(BaseModel):
    location: list[str | int] = Field(description="Where in the request: body, path, query …")
    message: str = Field(description="What is wrong, in Russian, for people.")
    type: str = Field(description="Stable machine type of the error, e.g. missing, int_type.")


class Problem(BaseModel):
    """RFC 9457 problem details, with the stable ``code`` clients act on."""

    type: str = Field(description="urn:ejournal:problem:<code>")
    title: str = Field(description="What went wrong, in Russian, for people.")
    status: int
    code: str = Field(description="Stable machine code, e.g. journal.not_assigned.")
    clause: str | None = Field(default=None, description="The regulation clause enforced.")
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(
        default=None, description="For request.invalid: what failed validation, where."
    )


class ApiError(Exception):
    """A refusal of the HTTP layer, by its code in ``API_CATALOGUE``."""

    def __init__(
        self,
        code: str,
        *,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        refusal = API_CATALOGUE[code]
        super().__init__(code, refusal.title)
        self.code = code
        self.status = refusal.status
        self.title = refusal.title
        self.clause = refusal.clause
        self.detail = detail
        self.headers = dict(headers or {})


def status_of(error: CommandError) -> int:
    """The HTTP status of a command refusal: by its kind."""
    for kind, status in _KIND_STATUS.items():
        if isinstance(error, kind):
            return status
    return 422


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    clause: str | None = None,
    detail: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=TYPE_PREFIX + code,
        title=title,
        status=status,
        code=code,
        clause=clause,
        detail=detail,
        instance=request.url.path,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        clause=exc.clause,
        detail=exc.detail,
        headers=exc.headers,
    )


_CHALLENGES = {
    "auth.required": "Bearer",
    "auth.invalid_token": 'Bearer error="invalid_token"',
}
"""RFC 6750's ``WWW-Authenticate`` challenge of the refusals that ask for a (new) token."""


def _authentication_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationError)
    refusal = API_CATALOGUE[exc.code]
    headers = {}
    if exc.code in _CHALLENGES:
        headers["WWW-Authenticate"] = _CHALLENGES[exc.code]
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return problem_response(
        request,
        status=refusal.status,
        code=exc.code,
        title=refusal.title,
        clause=refusal.clause,
        headers=headers,
    )


def _command_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommandError)
    return problem_response(
        request, status=status_of(exc), code=exc.code, title=exc.message, clause=exc.clause
    )


_DATE = "Ожидается дата в формате ГГГГ-ММ-ДД."
_TIME = "Ожидается время в формате ЧЧ:ММ."
_MOMENT = "Ожидаются дата и время с часовым поясом в формате ГГГГ-ММ-ДДTЧЧ:ММ+ЧЧ:ММ."
_INTEGER = "Ожидается целое число (число JSON, не строка)."
_NUMBER = "Ожидается число (число JSON, не строка)."
_OBJECT = "Ожидается объект JSON."
_ID = "Ожидается идентификатор (UUID)."

FIELD_MESSAGES: dict[str, str] = {
    "missing": "Обязательное поле не заполнено.",
    "extra_forbidden": "Такого поля нет.",
    "json_invalid": "Тело запроса — не корректный JSON.",
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "list_type": "Ожидается список.",
    "string_type": "Ожидается строка.",
    "string_unicode": "Ожидается строка в кодировке UTF-8.",
    "string_too_short": "Слишком коротко: не менее {min_length} симв.",
    "string_too_long": "Слишком длинно: не более {max_length} симв.",
    "string_pattern_mismatch": "Значение не соответствует допустимому формату.",
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_from_float": _INTEGER,
    "int_parsing_size": "Слишком большое число.",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": "Не более {max_digits} цифр в числе.",
    "decimal_max_places": "Не более {decimal_places} знаков после запятой.",
    "decimal_whole_digits": "Не более {whole_digits} цифр до запятой.",
    "finite_number": "Ожидается конечное число.",
    "bool_type": "Ожидается логическое значение: true или false.",
    "bool_parsing": "Ожидается логическое значение: true или false.",
    "greater_than": "Значение должно быть больше {gt}.",
    "greater_than_equal": "Значение должно быть не меньше {ge}.",
    "less_than": "Значение должно быть меньше {lt}.",
    "less_than_equal": "Значение должно быть не больше {le}.",
    "too_short": "Слишком мало элементов: не менее {min_length}.",
    "too_long": "Слишком много элементов: не более {max_length}.",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "time_type": _TIME,
    "time_parsing": _TIME,
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
    "datetime_object_invalid": _MOMENT,
    "timezone_aware": "Укажите часовой пояс, например +03:00.",
    "uuid_type": _ID,
    "uuid_parsing": _ID,
    "uuid_version": _ID,
    "enum": "Допустимые значения: {expected}.",
    "literal_error": "Допустимые значения: {expected}.",
    "value_error": "{error}",
}
"""Pydantic's error types, each with its Russian message; ``{…}`` are the error's context."""

OWN_ERROR_TYPES = frozenset({"text_unstorable", "datetime_range", "query_integer"})
"""Error types our own validators raise, with their Russian message (``PydanticCustomError``)."""


_DATE_TEXT = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)|(\d{4})-(\d{2})-(\d{2})")


def _context_text(value: Any) -> str:
    """A value of an error's context as the message shows it: a date (a bound of a date field,
    which pydantic hands over as an object or as its repr) as ДД.ММ.ГГГГ."""
    if isinstance(value, date):
        return str(as_text(value))
    text = str(value)
    if (found := _DATE_TEXT.fullmatch(text)) is not None:
        year, month, day = (int(part) for part in found.groups() if part is not None)
        return str(as_text(date(year, month, day)))
    return text.replace(" or ", " или ")


def field_message(error: Mapping[str, Any]) -> str:
    """A validation error in Russian, by its type: pydantic's messages are English, and a new
    type of error reads as a plain «Неверное значение.» until it is added here."""
    kind = str(error.get("type", ""))
    if kind in OWN_ERROR_TYPES:
        return str(error.get("msg", ""))
    template = FIELD_MESSAGES.get(kind)
    if template is None:
        return "Неверное значение."
    context = {name: _context_text(value) for name, value in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split("{", 1)[0].rstrip(" :") + "."


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            location=[part if isinstance(part, int) else str(part) for part in e.get("loc", ())],
            message=field_message(e),
            type=str(e.get("type", "")),
        )
        for e in exc.errors()
    ]
    refusal = API_CATALOGUE["request.invalid"]
    return problem_response(
        request, status=422, code="request.invalid", title=refusal.title, errors=errors
    )


_HTTP_CODES = {
    404: "request.not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "request.invalid")
    refusal = API_CATALOGUE[code]
    status = exc.status_code if exc.status_code in _HTTP_CODES else refusal.status
    return problem_response(
        request,
        status=status,
        code=code,
        title=refusal.title,
        headers=exc.headers or None,
    )


def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ConcurrentWriteError):
        return problem_response(
            request, status=409, code="conflict", title=CATALOGUE["conflict"].message
        )
    # The database is down or refused for a reason of its own.
    return _unavailable("service.unavailable")(request, exc)


def _unavailable(code: str) -> Callable[[Request, Exception], JSONResponse]:
    def handle(request: Request, exc: Exception) -> JSONResponse:
        # A failure of the server's own (database, vault key): not the client's fault, and not
        # a bare 500; the details go to the log only.
        log.warning("%s on %s: %r", code, request.url.path, exc)
        refusal = API_CATALOGUE[code]
        return problem_response(
            request, status=503, code=code, title=refusal.title, headers={"Retry-After": "5"}
        )

    return handle


def _not_projected(request: Request, exc: Exception) -> JSONResponse:
    refusal = API_CATALOGUE["read.not_found"]
    return problem_response(request, status=404, code="read.not_found", title=refusal.title)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every refusal, and every request error, as problem+json."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(AuthenticationError, _authentication_error)
    app.add_exception_handler(CommandError, _command_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(PersistenceError, _unavailable("service.unavailable"))
    app.add_exception_handler(VaultError, _unavailable("vault.unavailable"))
    app.add_exception_handler(NotProjected, _not_projected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting ``statuses`` as problem+json (for clients and checks)."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(status, "Refused"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    401: "Not authenticated (auth.*)",
    403: "Not allowed (role, assignment, account state)",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    410: "Gone (personal data destroyed)",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request or value",
    429: "Too many failed logins",
    503: "Temporarily unavailable",
}
