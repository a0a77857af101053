"""The README sections about the workbook and the guarantees stay true: the sheets, headers and
test files they name exist."""

from __future__ import annotations

import re
from pathlib import Path

from ptce_pipeline.catalogue import layout as L

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"## {title}\n")[1].split("\n## ")[0]


def test_layout_table_names_the_template_sheets_and_headers():
    text = section("How a pole submits")
    sheets = re.findall(r"^\| `([^`]+)`", text, flags=re.M)
    assert sheets == [
        L.SHEET_README,
        *L.DATA_SHEETS[:4],
        L.SHEET_LISTS,
        L.SHEET_META,
    ]
    for header in (
        *L.identity_headers()[:4],
        *L.indicator_headers(),
        *L.criteria_headers(),
        L.MEMBER_NUMBER,
    ):
        assert f"`{header}`" in text, header
    assert f"row {L.HEADER_ROW}" in text and f"row {L.FIRST_DATA_ROW}" in text
    assert f"{L.MEMBER_ROWS} numbered rows" in text
    assert f"{L.MAX_MEMBER_ROWS:,}".replace(",", " ") in text


def test_guarantees_name_test_files_that_exist():
    text = section("Guarantees")
    files = re.findall(r"`(tests/[\w/]+\.py)`", text)
    assert len(files) >= 5
    for name in files:
        assert (ROOT / name).is_file(), name
