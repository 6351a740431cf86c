"""Rendering a printout's view into PDF/A-3b with Typst, offline, with Typst's bundled fonts.

Rendering is deterministic: the same document, view, block and time give the same bytes (system
fonts are ignored, the PDF's dates are the certification time), so a printout can be reproduced from
an archive's data.
"""

from __future__ import annotations

import io
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


class RenderError(RuntimeError):
    """Typst could not render the printout."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationBlock:
    """What the certification block of a printout shows."""

    school: str
    signer: str
    date: str
    log: str
    size: int
    root: str
    sha256: str
    key: str
    certificate: str
    """The signed certificate note: the QR code's content."""

    def as_json(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "signer": self.signer,
            "date": self.date,
            "log": self.log,
            "size": str(self.size),
            "root": self.root,
            "sha256": self.sha256,
            "key": self.key,
        }


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as SVG (error correction M, byte mode, UTF-8)."""
    code = segno.make(text, error="m", micro=False, encoding="utf-8")
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=4, border=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def render(
    *,
    document: bytes,
    view: Mapping[str, Any],
    block: CertificationBlock | None,
    timestamp: datetime,
    output: Literal["pdf", "png"] = "pdf",
    ppi: float = 200.0,
) -> bytes:
    """Render a printout: PDF/A-3b with ``document`` attached as ``document.json``, or a PNG of
    its first page (for checks such as reading the QR code back).

    Raises ``RenderError`` if Typst fails.
    """
    inputs = {
        "document": document.decode("utf-8"),
        "view": json.dumps(view, ensure_ascii=False),
        "block": "" if block is None else json.dumps(block.as_json(), ensure_ascii=False),
        "qr": "" if block is None else qr_svg(block.certificate),
    }
    try:
        if output == "pdf":
            result = typst.compile(
                TEMPLATES / "document.typ",
                root=TEMPLATES,
                format="pdf",
                pdf_standards=PDF_STANDARD,
                ignore_system_fonts=True,
                sys_inputs=inputs,
                timestamp=timestamp,
            )
        else:
            result = typst.compile(
                TEMPLATES / "document.typ",
                root=TEMPLATES,
                format="png",
                ppi=ppi,
                ignore_system_fonts=True,
                sys_inputs=inputs,
            )
    except typst.TypstError as e:
        raise RenderError(f"{e.message}: {e.diagnostic}") from e
    if isinstance(result, list):
        return cast(bytes, result[0])
    if result is None:
        raise RenderError("Typst returned nothing")
    return result
