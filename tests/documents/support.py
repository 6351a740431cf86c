"""What the printout tests share: a generated school of 11 classes with its pupils' names, and
the checks a printout must pass as a PDF/A file (pikepdf), as text (pdfplumber), as a layout (no
word outside its cell), for poppler (no warnings) and as a QR code (zxing-cpp)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pdfplumber
import pikepdf
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from ejournal.documents.certify import ServiceSeal, rest_on_checkpoint
from ejournal.generator import district_plan, generate
from ejournal.generator.names import school_names
from ejournal.generator.spec import SchoolSpec
from ejournal.integrity.note import Ed25519Signer, generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import SchoolClass
from ejournal.ledger.logs import school_log_id

ORIGIN = "journal.test-district.ru"
SEED = 11
WEEKS = 8
"""Up to the end of the first quarter: every class of grades 1–9 has its quarter marks."""


@dataclass
class GeneratedSchool:
    """A district school of 11 classes (one a grade), generated for eight weeks, its names in a
    dictionary as the vault would give them, a signed checkpoint of its year."""

    ledger: Ledger
    spec: SchoolSpec
    names: dict[UUID, str]
    signer: Ed25519Signer
    checkpointer: Checkpointer
    checkpoint: StoredCheckpoint

    def name(self, person: UUID) -> str | None:
        return self.names.get(person)

    @property
    def seal(self) -> ServiceSeal:
        return ServiceSeal(signers=[self.signer])

    def class_id(self, grade: int) -> UUID:
        letter = next(k.letter for k in self.spec.classes if k.grade == grade)
        return SchoolClass.create_id(
            school_id=self.spec.school_id, year_start=2025, grade=grade, letter=letter
        )

    def printing(self) -> dict[str, Any]:
        """The arguments every ``print_*`` takes here: the checkpoint, the seal, the names."""
        return {
            "checkpoint": self.checkpoint,
            "origin": ORIGIN,
            "certifier": self.seal,
            "names": self.name,
        }


def generate_school(path: Path, weeks: int = WEEKS) -> GeneratedSchool:
    """Generate the school into a new SQLite file at ``path`` and sign a checkpoint of its year."""
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=f"sqlite:///{path}", clock=clock)
    plan = district_plan(schools=1, seed=SEED, weeks=weeks, parallels=1)
    (run,), _ = generate(ledger, clock, plan)
    spec = run.spec
    signer = generate_signer(ORIGIN)
    checkpointer = Checkpointer(
        ledger.database,
        origin=ORIGIN,
        signers=[signer],
        verifiers=[signer.verifier()],
        clock=clock,
    )
    checkpoint = rest_on_checkpoint(checkpointer, school_log_id(spec.school_id, 2025))
    names = dict(school_names(spec, SEED))
    return GeneratedSchool(ledger, spec, names, signer, checkpointer, checkpoint)


# --- checks of a PDF ------------------------------------------------------------------------------


def pdf_a_faults(pdf: bytes) -> list[str]:
    """What keeps ``pdf`` from being PDF/A-3b in structure: the XMP identification
    (``pdfaid:part`` 3, ``pdfaid:conformance`` B), an OutputIntent with an ICC profile, and every
    font embedded. (veraPDF checks far more; it is not available here.)"""
    faults = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        meta = document.open_metadata()
        if meta.get("pdfaid:part") != "3" or meta.get("pdfaid:conformance") != "B":
            faults.append(f"XMP pdfaid {meta.get('pdfaid:part')}/{meta.get('pdfaid:conformance')}")
        intents = document.Root.get("/OutputIntents", pikepdf.Array())
        if not any(i.get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i for i in intents):
            faults.append("no PDF/A OutputIntent with an ICC profile")
        fonts = 0
        for page in document.pages:
            for name, font in page.resources.get("/Font", pikepdf.Dictionary()).items():
                fonts += 1
                described = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = described.get("/FontDescriptor", pikepdf.Dictionary())
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    faults.append(f"font {name} ({described.get('/BaseFont')}) is not embedded")
        if fonts == 0:
            faults.append("no fonts")
    return faults


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, as pdfplumber (pdfminer.six) extracts it."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def text_of(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))


def upright_text_of(pdf: bytes) -> str:
    """The text of every page as pypdf extracts it, which reads text turned upright too (the
    subject names of a summary sheet), words separated by single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def last_page_png(pdf: bytes, resolution: int = 200) -> bytes:
    """The last page (the certification block's) as a PNG, rendered by PDFium (pypdfium2, which
    pdfplumber brings): a reader other than the one that drew it."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        image = document.pages[-1].to_image(resolution=resolution).original
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


TOLERANCE = 0.6
"""Points a word may touch a rule (a stroke is 0.4 pt wide)."""


def _bounds(low: float, high: float, rules: list[float]) -> tuple[float, float] | None:
    """The rules just outside the span (low, high) from its start: the cell it starts in."""
    before = [r for r in rules if r <= low + TOLERANCE]
    after = [r for r in rules if r > low + TOLERANCE]
    if not before or not after:
        return None
    return max(before), min(after)


def layout_faults(pdf: bytes) -> list[str]:
    """Every word whose box runs out of the table cell it starts in: across the column's right
    rule, or (an upright header) across the row's rule. The cells are found from the rules the
    table draws, so the check knows nothing of the template's widths."""
    faults = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, 1):
            vertical = [e for e in page.edges if e["orientation"] == "v"]
            horizontal = [e for e in page.edges if e["orientation"] == "h"]
            for word in page.extract_words():
                middle_y = (word["top"] + word["bottom"]) / 2
                middle_x = (word["x0"] + word["x1"]) / 2
                columns = sorted(
                    e["x0"] for e in vertical if e["top"] - 1 <= middle_y <= e["bottom"] + 1
                )
                rows = sorted(
                    e["top"] for e in horizontal if e["x0"] - 1 <= middle_x <= e["x1"] + 1
                )
                cell = _bounds(word["x0"], word["x1"], columns)
                if cell is not None and word["x1"] > cell[1] + TOLERANCE:
                    faults.append(f"page {number}: «{word['text']}» crosses a column's rule")
                    continue
                band = _bounds(word["top"], word["bottom"], rows)
                if cell is not None and band is not None and word["bottom"] > band[1] + TOLERANCE:
                    faults.append(f"page {number}: «{word['text']}» crosses a row's rule")
    return faults


POPPLER = ("pdfinfo", "pdftotext")


def poppler_warnings(pdf: bytes, tmp_path: Path) -> str:
    """What poppler's pdfinfo and pdftotext print on stderr for ``pdf``. Skips without poppler,
    except under CI=true (.ci/run installs it)."""
    if not all(shutil.which(tool) for tool in POPPLER):
        if os.environ.get("CI") == "true":
            pytest.fail("poppler-utils (pdfinfo, pdftotext) is required under CI=true")
        pytest.skip("poppler-utils is not installed")
    path = tmp_path / "printout.pdf"
    path.write_bytes(pdf)
    warnings = []
    for command in (["pdfinfo", str(path)], ["pdftotext", str(path), "-"]):
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        warnings.append(done.stderr)
    return "".join(warnings)


def qr_texts(png: bytes) -> set[str]:
    """The texts of the QR codes zxing-cpp reads in a page image."""
    codes = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return {code.text for code in codes}
