"""Filling a template the way a pole would: `FilledData` is what the pole types,
`fill_workbook` types it into the input cells, `add_comment` leaves a cell comment. Used by the
demo, the tests and the benchmarks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from ptce_pipeline.catalogue import Referentiel
from ptce_pipeline.catalogue import layout as L


@dataclass
class FilledData:
    """What a pole types into the workbook (used by the demo, tests and benchmarks)."""

    identity: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    indicators: dict[str, Any] = field(default_factory=dict)  # code → value
    indicator_comments: dict[str, str] = field(default_factory=dict)
    criteria: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # code → (answer, why)


def _find_row(ws, column: int, key: str, start: int = 1) -> int | None:
    for row in range(start, ws.max_row + 1):
        if ws.cell(row=row, column=column).value == key:
            return row
    return None


def _header_column(ws, header: str) -> int:
    for col in range(1, ws.max_column + 1):
        if ws.cell(row=L.HEADER_ROW, column=col).value == header:
            return col
    raise KeyError(f"column {header!r} not in sheet {ws.title!r}")


def fill_workbook(wb: Workbook, ref: Referentiel, data: FilledData) -> Workbook:
    """Type values into the template's input cells, as a pole would."""
    ws = wb[L.SHEET_IDENTITY]
    for key, value in data.identity.items():
        row = _find_row(ws, 1, key, L.FIRST_DATA_ROW)
        if row is None:
            raise KeyError(f"identity field {key!r} not in template")
        ws.cell(row=row, column=3, value=value)
    ws = wb[L.SHEET_MEMBERS]
    keys = [f.key for f in ref.members]
    for offset, member in enumerate(data.members):
        row = L.FIRST_DATA_ROW + offset
        for key, value in member.items():
            col = keys.index(key) + 2
            cell = ws.cell(row=row, column=col, value=value)
            # as a spreadsheet does, a new cell takes its column's style
            cell._style = copy.copy(ws.column_dimensions[get_column_letter(col)]._style)
    ws = wb[L.SHEET_INDICATORS]
    value_col = _header_column(ws, L.IND_VALUE)  # after the reference column, if there is one
    for code, value in data.indicators.items():
        row = _find_row(ws, 1, code, L.FIRST_DATA_ROW)
        if row is None:
            raise KeyError(f"indicator {code!r} not in template")
        ws.cell(row=row, column=value_col, value=value)
        if code in data.indicator_comments:
            ws.cell(row=row, column=value_col + 1, value=data.indicator_comments[code])
    ws = wb[L.SHEET_CRITERIA]
    for code, (answer, why) in data.criteria.items():
        row = _find_row(ws, 1, code, L.FIRST_DATA_ROW)
        if row is None:
            raise KeyError(f"criterion {code!r} not in template")
        ws.cell(row=row, column=4, value=answer)
        ws.cell(row=row, column=5, value=why)
    return wb


def add_comment(cell, text: str) -> None:
    cell.comment = Comment(text, "ptce-pipeline", width=300, height=120)
