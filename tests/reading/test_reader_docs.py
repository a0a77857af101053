"""The docs about the workbook (docs/workbook.md) and the guarantees (docs/guarantees.md) stay
true: the sheets, headers and test files they name exist."""

from __future__ import annotations

import re
from pathlib import Path

from ptce_pipeline.catalogue import layout as L

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
DOCS = ROOT / "docs"


def section(doc: str, title: str) -> str:
    text = (DOCS / doc).read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n")[1].split("\n## ")[0]


def test_layout_table_names_the_template_sheets_and_headers():
    text = section("workbook.md", "How a pole submits")
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
    text = section("guarantees.md", "Guarantees")
    files = re.findall(r"`(tests/[\w/]+\.py)`", text)
    assert len(files) >= 5
    for name in files:
        assert (ROOT / name).is_file(), name
