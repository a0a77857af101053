"""The content model: what a workbook says, each value with the cell it came from.

Shared by reading (which fills it) and validation (which checks it), so it sits below both.
Cells are addressed in A1 notation; the helpers here convert between letters and numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ptce_pipeline.catalogue import issues as I


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def col_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def split_ref(ref: str) -> tuple[int, int]:
    """'B5' → (row 5, column 2); (0, 0) when malformed."""
    m = re.fullmatch(r"([A-Za-z]{1,3})(\d{1,7})", ref)
    if not m:
        return 0, 0
    return int(m.group(2)), col_number(m.group(1))


@lru_cache(maxsize=1024)
def col_letter(idx: int) -> str:
    """0-based column index → letters."""
    return col_letters(idx + 1)


def addr(row: int, col: int) -> str:
    """0-based (row, col) → A1."""
    return f"{col_letter(col)}{row + 1}"


@dataclass(slots=True)
class Cell:
    value: Any
    cell: str  # A1
    raw: Any = None


@dataclass
class Content:
    """What the reader got out of one workbook."""

    format: str
    template_version: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    identity: dict[str, Cell] = field(default_factory=dict)
    members: list[dict[str, Cell]] = field(default_factory=list)
    member_rows: list[int] = field(default_factory=list)  # 1-based Excel row of each member
    member_columns: dict[str, str] = field(default_factory=dict)  # key → column letter
    indicators: dict[str, Cell] = field(default_factory=dict)
    indicator_comments: dict[str, Cell] = field(default_factory=dict)
    criteria: dict[str, Cell] = field(default_factory=dict)
    justifications: dict[str, Cell] = field(default_factory=dict)
    issues: list[I.Issue] = field(default_factory=list)
    # (sheet, cell) with a coercion error: validation does not report them a second time
    flagged: set[tuple[str, str]] = field(default_factory=set)
    sheet_names: dict[str, str] = field(default_factory=dict)  # template name → name in the file
    empty: bool = False

    def add(self, issue: I.Issue) -> None:
        self.issues.append(issue)
        if issue.sheet and issue.cell and issue.severity == I.ERREUR:
            self.flagged.add((issue.sheet, issue.cell))
