"""LibreOffice and poppler, as a pole's computer would render a workbook: `soffice --headless`
with a private profile under the test's folder, then `pdftotext -bbox-layout` for where each
line and word of the render lands on its page.

Where the programs are missing the test is skipped, except under CI (`CI` set), where CI
installs them (.ci/run) and a missing program fails the test instead of hiding it."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest


def require(*programs: str) -> dict[str, str]:
    """The path of each program; skip (or fail, under CI) when one is missing."""
    found = {p: shutil.which(p) for p in programs}
    missing = [p for p, path in found.items() if path is None]
    if missing:
        why = f"{', '.join(missing)} absent (apt-get install libreoffice-calc poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI must install it")
        pytest.skip(why)
    return found  # type: ignore[return-value]


def convert(data: bytes, folder: Path, name: str, target: str, outdir: str) -> Path:
    """The workbook `data` converted by LibreOffice to `target` (own profile under `folder`)
    → the converted file, in `folder/outdir`."""
    exe = require("soffice")["soffice"]
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / name
    src.write_bytes(data)
    out = folder / outdir
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(folder)},
    )
    return out / f"{src.stem}.{target}"


def to_pdf(data: bytes, folder: Path, name: str = "classeur.xlsx") -> Path:
    """The workbook `data` converted to PDF by LibreOffice (own profile under `folder`)."""
    return convert(data, folder, name, "pdf", "pdf")


def resave(data: bytes, folder: Path, name: str = "classeur.xlsx", target: str = "xlsx") -> bytes:
    """The workbook `data` as LibreOffice saves it after opening it (own profile under
    `folder`): what a pole using LibreOffice sends back."""
    return convert(data, folder, name, target, "enregistre").read_bytes()


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: list[list[Word]]

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line]


def pdf_pages(pdf: Path) -> list[Page]:
    """Every page of `pdf`, its text lines and their words with boxes (points, y downwards)."""
    exe = require("pdftotext")["pdftotext"]
    xml = subprocess.run(
        [exe, "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout
    root = ET.fromstring(xml)
    pages = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        lines = [
            [
                Word(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
                for w in line.iter("{http://www.w3.org/1999/xhtml}word")
            ]
            for line in page.iter("{http://www.w3.org/1999/xhtml}line")
        ]
        pages.append(Page(float(page.get("width")), float(page.get("height")), lines))
    return pages


def overlapping(words: list[Word], tolerance: float = 1.0) -> list[tuple[Word, Word]]:
    """Pairs of words printed over each other (their boxes intersect by more than `tolerance`
    points both across and down)."""
    found = []
    ordered = sorted(words, key=lambda w: w.y0)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.y0 >= a.y1 - tolerance:
                break
            across = min(a.x1, b.x1) - max(a.x0, b.x0)
            down = min(a.y1, b.y1) - max(a.y0, b.y0)
            if across > tolerance and down > tolerance:
                found.append((a, b))
    return found
