"""The guide for auditors inside every school-year archive (``data/README.md``): in Russian, what
the bag holds, how to verify it offline, and the formats an auditor needs to check it by hand —
the entries, the leaves, the hash chain, the Merkle tree and the recomputed summary sheets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ejournal.integrity.archive import LogHeader

GUIDE = "README.md"


def auditor_guide(header: LogHeader, metadata: Mapping[str, Any]) -> str:
    """The guide for auditors inside every archive (Russian, with the formats). Raises nothing."""
    final = metadata["provenance"]["final_checkpoint"]
    return _TEMPLATE.format(
        title=metadata["title"],
        identifier=metadata["identifier"],
        log_id=header.log_id,
        origin=header.origin,
        size=header.size,
        root=final["root_sha256"],
    )


_TEMPLATE = """\
# {title}

Идентификатор: `{identifier}`
Журнал (лог): `{log_id}`, источник контрольных точек: `{origin}`
Итоговая контрольная точка: {size} записей, корень Merkle `{root}`

Этот пакет — архив электронного журнала одного учебного года одного ОУ в формате BagIt 1.0
(RFC 8493). Его можно проверить без базы данных и без сети:

    ejournal verify-archive ПАПКА --keys district.vkeys [--json]

`--keys` — файл ключей проверки контрольных точек, полученный от района **не из этого архива**
(ключи в `data/keys/` приведены для справки; проверка только по ним не независима).
Любая программа для BagIt также проверит манифесты: `bagit.py --validate ПАПКА`.

## Что внутри (`data/`)

- `log/log.json` — какой журнал, источник (origin) и число записей;
- `log/entries.csv` — все записи журнала по порядку (см. ниже);
- `log/checkpoints.jsonl` — подписанные контрольные точки (C2SP tlog-checkpoint) с
  доказательствами согласованности между ними;
- `keys/checkpoint.vkeys` — ключи проверки подписей контрольных точек (C2SP vkey);
- `keys/signatories.vkeys` — ключи проверки подписи руководителя, заверявшего документы;
- `documents/*.json` — данные заверенных документов (сводных ведомостей): заверены именно эти
  байты;
- `documents/*.certificate` — подпись руководителя (C2SP signed note), то же, что в QR-коде
  распечатки;
- `documents/*.csv`, `*.pdf` — те же ведомости в CSV (UTF-8) и PDF/A-3b (данные вложены в PDF
  как `document.json`);
- `metadata.json` — метаданные по ГОСТ Р ИСО 15489-1: идентификатор, заголовок, создатель, даты,
  классификация, доступ, сроки хранения и даты уничтожения, форматы, происхождение, связи.

## Записи (`entries.csv`)

CSV по RFC 4180, UTF-8, строки через CRLF, первая строка — заголовок:
`index, originator_id, originator_version, topic, recorded_at, actor_id, actor_role,
credential_version, session_id, payload_sha256, leaf_hash, chain_hash, payload`.
UUID — в каноническом виде с дефисами; `recorded_at` — микросекунды с 1970-01-01T00:00:00Z (время
сервера); хэши — 64 шестнадцатеричные цифры; `payload` — байты события (JSON) в base64, **пусто**,
если содержимое уничтожено по истечении срока хранения (тогда запись и её хэши остаются, а акт об
уничтожении — событие `DispositionAct.Recorded` того же журнала — называет её номер).

Для каждой записи проверяется:

1. SHA-256(base64-декодированный payload) = `payload_sha256`;
2. лист (leaf) — байты `EJL1`, журнал, номер, событие, тема, время, пользователь, роль, версия
   учётных данных, сеанс и `payload_sha256` (формат описан побайтно в docs/ledger-format.md
   проекта ejournal); SHA-256(0x00 ‖ лист) = `leaf_hash`;
3. `chain_hash` = SHA-256(предыдущий chain_hash ‖ leaf_hash), перед записью 0 — 32 нулевых байта;
4. корень дерева Merkle (RFC 6962) первых N листьев совпадает с подписанным корнем каждой
   контрольной точки размера N, `chain_head` — с цепочкой; между соседними точками проверяется
   доказательство согласованности (RFC 9162); последняя точка покрывает все записи.

## Сводные ведомости

Каждая ведомость пересчитывается из записей журнала: периоды и предметы года
(`SchoolYear.*`), класс и зачисления (`SchoolClass.*`), группы и индивидуальные планы (для
отнесения отметки к классу), отметки аттестации (`AttestationRecord.*`) — по записям до размера
контрольной точки, на которую опирается ведомость (`log.size` в её JSON). Пересчёт должен
совпасть с архивной ведомостью (ключи `year_start, class, scope, periods, subjects, students,
marks`), а CSV — с CSV, построенным из JSON. Подпись руководителя (`.certificate`) проверяется
ключом из `keys/signatories.vkeys`, который зарегистрирован в журнале событием
`SignatoryKey.Registered`; сама подпись записана в журнал событием
`DocumentCertification.Certified`.

Проверка распечатки: QR-код содержит подпись (certificate) целиком: SHA-256 данных документа,
контрольную точку (origin, размер, корень) и подпись руководителя.
"""
