"""Rendering a printout's view into PDF/A-3b with Typst, offline, with Typst's bundled fonts.

Rendering is deterministic: the same document, view, block and time give the same bytes (system
fonts are ignored, the PDF's dates are the certification time), so a printout can be reproduced from
an archive's data.

A certified printout carries three attachments: ``document.json`` (the certified data),
``certificate.txt`` (the signed certificate, the QR code's text) and ``checkpoint.txt`` (the
signed checkpoint the document rests on), so that ``verify-printout`` needs nothing but the file
and the trusted keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

import segno
import typst

TEMPLATES = Path(__file__).with_name("templates")
PDF_STANDARD: Literal["a-3b"] = "a-3b"
"""PDF/A-3b: archival PDF that may carry attachments (the document's data)."""
QR_ERROR = "m"
QR_BORDER = 4
"""The QR code's error correction and quiet zone (modules), as drawn and as verified."""
TAIL_ROWS = 3
"""Rows of the last table that stay on the page of the certification block."""
_SUSPECTS = b"/MarkInfo<</Marked true/Suspects false>>"
_WITHOUT_SUSPECTS = b"/MarkInfo<</Marked true>>"


class RenderError(RuntimeError):
    """Typst could not render the printout."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationBlock:
    """What the certification block of a printout shows."""

    heading: str
    school: str
    signer: str
    date: str
    """When it was certified, in the school's time: ДД.ММ.ГГГГ ЧЧ:ММ."""
    as_of: str
    """The checkpoint the data rests on, as people read it."""
    log: str
    size: int
    root: str
    sha256: str
    key: str
    certificate: str
    """The signed certificate note: the QR code's content."""
    checkpoint: str
    """The signed checkpoint note the certificate names."""

    def as_json(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "school": self.school,
            "signer": self.signer,
            "date": self.date,
            "as_of": self.as_of,
            "log": self.log,
            "size": str(self.size),
            "root": self.root,
            "sha256": self.sha256,
            "key": self.key,
        }


def qr_code(text: str) -> segno.QRCode:
    """The QR code of ``text`` (error correction M, byte mode, UTF-8). Raises nothing for a
    certificate (a few hundred bytes)."""
    return segno.make(text, error=QR_ERROR, micro=False, encoding="utf-8")


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code of ``text`` as rows of modules (True: dark), quiet zone included."""
    return [[bool(m) for m in row] for row in qr_code(text).matrix_iter(border=QR_BORDER)]


def _modules_input(text: str) -> str:
    return "\n".join("".join("1" if m else "0" for m in row) for row in qr_modules(text))


def without_suspects(pdf: bytes) -> bytes:
    """``pdf`` without ``/Suspects false`` in its catalog's ``/MarkInfo``, blanked in place.

    Typst writes the (valid, default) entry; poppler before 25.12 reads any value but ``true`` as
    the wrong type and prints "Syntax Error: Suspects object is wrong type (boolean)" for every
    printout (pdfinfo, pdftotext, every viewer built on it). The entry is replaced by spaces of
    the same length, so every byte offset, and the cross-reference table, stay as they are.
    Raises nothing.
    """
    if pdf.count(_SUSPECTS) != 1:
        return pdf
    padding = b" " * (len(_SUSPECTS) - len(_WITHOUT_SUSPECTS))
    return pdf.replace(_SUSPECTS, _WITHOUT_SUSPECTS[:-2] + padding + b">>")


def render(
    *,
    document: bytes,
    view: Mapping[str, Any],
    block: CertificationBlock | None,
    timestamp: datetime,
    output: Literal["pdf", "png"] = "pdf",
    ppi: float = 200.0,
    tail_rows: int = TAIL_ROWS,
) -> bytes:
    """Render a printout: PDF/A-3b with ``document`` attached as ``document.json`` (and, when
    certified, the certificate and the checkpoint), or a PNG of its last page (the certification
    block's, for checks such as reading the QR code back).

    Raises ``RenderError`` if Typst fails.
    """
    inputs = {
        "document": document.decode("utf-8"),
        "view": json.dumps(view, ensure_ascii=False),
        "block": "" if block is None else json.dumps(block.as_json(), ensure_ascii=False),
        "certificate": "" if block is None else block.certificate,
        "checkpoint": "" if block is None else block.checkpoint,
        "qr": "" if block is None else _modules_input(block.certificate),
        "tail": str(tail_rows),
    }
    options: dict[str, Any] = (
        {"format": "pdf", "pdf_standards": PDF_STANDARD, "timestamp": timestamp}
        if output == "pdf"
        else {"format": "png", "ppi": ppi}
    )
    try:
        result = typst.compile(
            TEMPLATES / "document.typ",
            root=TEMPLATES,
            ignore_system_fonts=True,
            sys_inputs=inputs,
            **options,
        )
    except typst.TypstError as e:
        raise RenderError(f"{e.message}: {e.diagnostic}") from e
    if isinstance(result, list):
        return cast(bytes, result[-1])
    if result is None:
        raise RenderError("Typst returned nothing")
    return without_suspects(result) if output == "pdf" else result
