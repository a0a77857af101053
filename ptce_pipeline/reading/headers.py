"""Finding a table's columns by the text of its header row, and the cell helpers around it.

Matching is by header text (case, accents, spaces, a parenthesis, a trailing "*" and ":"
ignored), never by position alone, so re-ordered and inserted columns keep the right addresses.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ptce_pipeline.catalogue import fold
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.reading.workbook import RawSheet


@lru_cache(maxsize=8192)
def folded(text: str) -> str:
    """`fold`, cached: the same sheet names and codes come back in every workbook."""
    return fold(text)


@lru_cache(maxsize=4096)
def _hkey_text(text: str) -> str:
    key = folded(text)
    key = re.sub(r"\(.*?\)", "", key)
    key = key.replace("*", "").replace(":", "")
    return " ".join(key.split())


def hkey(value: Any) -> str:
    """Header key: case, accents, spaces, "(…)", "*" and ":" ignored. Only text is a header."""
    if not isinstance(value, str) or not value:
        return ""
    return _hkey_text(value)


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def find_header(sheet: RawSheet, wanted: dict[str, str]) -> tuple[int | None, dict[str, int]]:
    """Find the header row among the first rows: the one matching most of `wanted`
    (header key → field key). Returns (row index, field key → column index)."""
    best: tuple[int, int | None, dict[str, int]] = (0, None, {})
    for r, row in enumerate(sheet.rows[: L.HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            if isinstance(value, str) and value:
                key = wanted.get(_hkey_text(value))
                if key and key not in found:
                    found[key] = c
        if len(found) > best[0]:
            best = (len(found), r, found)
    return best[1], best[2]


def cell_value(sheet: RawSheet, r: int, c: int) -> Any:
    """The value at (row, column), counted from 0; None for an empty or missing cell."""
    rows = sheet.rows
    if r < len(rows):
        row = rows[r]
        if c < len(row):
            value = row[c]
            return None if value == "" else value
    return None
