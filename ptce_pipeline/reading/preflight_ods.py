"""Pre-flight of an OpenDocument spreadsheet (.ods): every member streamed through the zip
guard, then one expat pass over content.xml that places the cells (repeated rows and columns
counted) and refuses value cells beyond the caps and sheets whose extents add up to more than
`Limits.max_cells` (repeated rows and columns count as the cells they make), noting merged areas, percent cells, formulas
without a value and error cells for the reader.
"""

from __future__ import annotations

import html
import re

from ptce_pipeline.config import Limits
from ptce_pipeline.reading.preflight_model import (
    MAX_COL,
    MAX_ROW,
    CellBudget,
    Preflight,
    PreflightRefusal,
    SheetScan,
    cell_ref,
    refuse_far,
)
from ptce_pipeline.reading.zipguard import XML_SUFFIXES, Budget, open_zip, read_member

# calamine matches OpenDocument elements by their qualified names (`table:table-cell`), not by
# namespace: so does the scan below.
_META_USER = re.compile(
    rb"<meta:user-defined\b[^>]*?meta:name=\"ptce_([a-z0-9_]+)\"[^>]*>([^<]*)</meta:user-defined>"
)


def preflight_ods(data: bytes, limits: Limits) -> Preflight:
    zf, infos = open_zip(data, limits)
    budget = Budget(limits)
    content = b""
    result = Preflight(format="ods")
    for info in infos:
        if info.is_dir():
            continue
        low = info.filename.replace("\\", "/").casefold()
        is_xml = low.endswith(XML_SUFFIXES)
        keep = low in ("content.xml", "meta.xml", "meta-inf/manifest.xml")
        blob = read_member(zf, info, budget, keep=keep, xml=is_xml, what=info.filename[:60])
        if low == "content.xml":
            content = blob
        elif low == "meta.xml":
            for m in _META_USER.finditer(blob):
                result.custom_props[m.group(1).decode()] = html.unescape(
                    m.group(2).decode("utf-8", "replace")
                )
        elif low == "meta-inf/manifest.xml" and b"encryption-data" in blob:
            raise PreflightRefusal("encrypted-file")
        if low.startswith(("basic/", "scripts/")):
            result.has_macros = True
    if not content:
        raise PreflightRefusal("corrupt-file", "content.xml manquant")
    _scan_ods(content, result, limits)
    return result


class _OdsGrid:
    """Places the cells of content.xml (repeated rows and columns counted; only cells with a
    value or a formula count for the extent) and notes merged areas, percent cells, formulas
    without a value and error cells. Fed by either scan."""

    def __init__(self, result: Preflight, limits: Limits):
        self.result = result
        self.limits = limits
        self.cap_rows = min(limits.max_rows, MAX_ROW)
        self.cap_cols = min(limits.max_cols, MAX_COL)
        self.depth = 0
        self.scan: SheetScan | None = None
        self.row = self.col = 0
        self.row_rep = 1
        self.row_has = False
        self.cells = CellBudget(limits)

    def table_start(self, name: str) -> None:
        self.depth += 1  # a table inside a table (shapes…) is not part of the grid
        if self.depth == 1:
            self.scan = SheetScan(name=name, path="content.xml")
            self.result.sheets[name] = self.scan
            self.row = 0

    def table_end(self) -> None:
        self.depth -= 1
        if self.depth == 0:
            if self.scan is not None:  # repeated rows and columns count as the cells they make
                self.cells.add(self.scan)
            self.scan = None

    @property
    def active(self) -> bool:
        return self.scan is not None and self.depth == 1

    def row_start(self, repeated: str | None) -> None:
        self.row_rep = _count(repeated)
        self.row_has = False
        self.col = 0

    def row_end(self) -> None:
        first = self.row + 1
        self.row += self.row_rep
        if self.row_has:
            if self.row > self.cap_rows:
                _refuse_ods(self.scan, max(first, self.cap_rows + 1), 1, self.limits)
            self.scan.max_row = self.row

    def cell(self, a: dict[str, str], *, covered: bool, has_text: bool, text: str = "") -> None:
        rep = _count(a.get("table:number-columns-repeated"))
        spans = a.get("table:number-rows-spanned")
        scan = self.scan
        if spans and not covered and _count(spans) > 1:
            cs = _count(a.get("table:number-columns-spanned"))
            r0, c0 = self.row + 1, self.col + 1
            scan.merged.append(
                f"{cell_ref(c0, r0)}:{cell_ref(c0 + cs - 1, r0 + _count(spans) - 1)}"
            )
        first = self.col + 1
        self.col += rep
        vt = a.get("office:value-type")
        formula = "table:formula" in a
        if vt is None and not has_text and not formula:
            return
        self.row_has = True
        row = self.row + 1
        if self.col > self.cap_cols:
            _refuse_ods(scan, row, max(first, self.cap_cols + 1), self.limits)
        scan.max_col = max(scan.max_col, self.col)
        if vt == "percentage":
            self.result.ods_percent.setdefault(scan.name, []).append(
                (row, row + self.row_rep - 1, first, self.col)
            )
        if formula and vt is None and not has_text:
            scan.formulas_without_value.add(cell_ref(first, row))
        if a.get("calcext:value-type") == "error":
            scan.error_cells[cell_ref(first, row)] = text.strip() or "#ERREUR"


def _scan_ods(content: bytes, result: Preflight, limits: Limits) -> None:
    """One expat pass over content.xml (elements by qualified name, as calamine reads them).

    Most cells are empty styled ones: their handlers only move the column. (A regular-expression
    tokenizer was tried: the Python work per element made it slower than expat.)"""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    grid = _OdsGrid(result, limits)
    stack: list = []  # open cells: [attributes, covered, has_text, texts]
    interesting = ("office:value-type", "table:formula", "table:number-rows-spanned")

    def start(name, attrs):
        if grid.depth != 1 and name != "table:table":
            return
        if name == "table:table-cell" or name == "table:covered-table-cell":
            stack.append([attrs, name != "table:table-cell", False, None])
        elif name[:5] == "text:":
            if stack:
                stack[-1][2] = True
        elif name == "table:table-row":
            grid.row_start(attrs.get("table:number-rows-repeated"))
        elif name == "table:table":
            grid.table_start(attrs.get("table:name", ""))

    def chars(text):
        if stack and stack[-1][3] is not None and len(stack[-1][3]) < 8:
            stack[-1][3].append(text)

    def end(name):
        if grid.depth != 1 and name != "table:table":
            return
        if name == "table:table-cell" or name == "table:covered-table-cell":
            if not stack:
                return
            a, covered, has_text, texts = stack.pop()
            if has_text or any(k in a for k in interesting):
                grid.cell(a, covered=covered, has_text=has_text, text="".join(texts or ()))
            else:
                rep = a.get("table:number-columns-repeated")
                grid.col += _count(rep) if rep else 1
        elif name == "table:table-row":
            grid.row_end()
        elif name == "table:table":
            grid.table_end()

    def error_text(name, attrs):
        start(name, attrs)
        if stack and attrs is stack[-1][0] and attrs.get("calcext:value-type") == "error":
            stack[-1][3] = []

    parser.StartElementHandler = error_text if b'calcext:value-type="error"' in content else start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise PreflightRefusal("corrupt-file", f"content.xml illisible : {exc}"[:160]) from None


def _count(raw: str | None) -> int:
    if not raw:
        return 1
    try:
        n = int(raw)
    except ValueError:
        raise PreflightRefusal(
            "corrupt-file", f"nombre de répétitions invalide ({raw[:12]})"
        ) from None
    if n < 1 or n > MAX_ROW * MAX_COL:
        raise PreflightRefusal("corrupt-file", f"nombre de répétitions invalide ({raw[:12]})")
    return n


def _refuse_ods(scan: SheetScan, row: int, col: int, limits: Limits) -> None:
    refuse_far(scan, cell_ref(min(col, MAX_COL + 1), min(row, MAX_ROW + 1)), limits)
