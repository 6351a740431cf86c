"""Checks of the PDF printouts inside an archive: a summary sheet's PDF/A must embed, as
``document.json``, exactly the certified data the archive holds beside it, so that the printout an
auditor opens shows what the head certified.
"""

from __future__ import annotations

from pathlib import Path

from ejournal.integrity.errors import DocumentMismatchError


def check_pdf_embeds(pdf: Path, data: Path, *, where: str) -> None:
    """Check that the PDF at ``pdf`` embeds the bytes of the file ``data`` as ``document.json``.

    Raises ``DocumentMismatchError`` (naming ``where``) if the PDF cannot be read or does not embed
    them, ``OSError`` if ``data`` cannot be read.
    """
    from pypdf import PdfReader  # imported here: only archives with PDFs need it

    try:
        attachments = PdfReader(pdf).attachments
        embedded = attachments.get("document.json", [])
    except Exception as e:
        raise DocumentMismatchError(f"PDF cannot be read: {e}", where=where) from e
    if data.read_bytes() not in embedded:
        raise DocumentMismatchError(
            "the PDF does not embed the certified data (document.json)", where=where
        )
