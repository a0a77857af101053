"""What the pre-flight learns of a workbook, and how it refuses one.

`Preflight` holds what the reader needs later (one `SheetScan` per sheet: its real extent,
formulas without a cached value, error cells, merged ranges; styles; document properties), so
percent formats and formula problems are found without a second unzip. `PreflightRefusal` is
raised when a file must not reach a spreadsheet parser.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ptce_pipeline.config import Limits
from ptce_pipeline.content import col_letters, split_ref

MAX_COL = 16384  # XFD
MAX_ROW = 1048576

NS_PREFIX = rb"(?:[A-Za-z_][\w.\-]*:)?"  # optional namespace prefix
_P = NS_PREFIX
_Q = rb"[\"']"
_ATTR = re.compile(rb"([\w:.\-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_NUMFMT = re.compile(rb"<" + _P + rb"numFmt\s([^>]*?)/?>")
_CELLXFS = re.compile(rb"<" + _P + rb"cellXfs\b[^>]*>(.*?)</" + _P + rb"cellXfs>", re.S)
_XF = re.compile(rb"<" + _P + rb"xf\b([^>]*?)/?>")
_BUILTIN_PERCENT = re.compile(rb"numFmtId\s*=\s*[\"'](?:9|10)[\"']")
_NUMFMT_ID = re.compile(rb"numFmtId\s*=\s*[\"'](\d+)")
PERCENT_BUILTIN = frozenset({9, 10})


class PreflightRefusal(Exception):
    """The file is refused before any parser runs. `sheet`/`cell` locate the cause if known."""

    def __init__(self, code: str, detail: str = "", *, sheet: str | None = None, cell=None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.sheet = sheet
        self.cell = cell


def cell_ref(col: int, row: int) -> str:
    """A1 reference of a (1-based) column and row."""
    return f"{col_letters(col)}{row}"


@dataclass
class SheetScan:
    name: str
    path: str
    state: str = "visible"
    max_row: int = 0  # of cells carrying a value (0 when not measured)
    max_col: int = 0
    formulas_without_value: set[str] = field(default_factory=set)
    external_formula_cells: set[str] = field(default_factory=set)
    error_cells: dict[str, str] = field(default_factory=dict)  # A1 → "#DIV/0!"
    merged: list[str] = field(default_factory=list)  # ODS: merged areas, "A1:B3"
    xml: bytes = b""


@dataclass
class Preflight:
    format: str
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    epoch1904: bool = False
    has_macros: bool = False
    has_external_links: bool = False
    styles_xml: bytes = b""
    custom_props: dict[str, str] = field(default_factory=dict)
    # ODS: areas of percent cells per sheet, (first row, last row, first col, last col)
    ods_percent: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    _percent_xfs: frozenset[int] | None = None

    def percent_styles(self) -> frozenset[int]:
        if self._percent_xfs is None:
            self._percent_xfs = percent_styles(self.styles_xml)
        return self._percent_xfs

    def is_percent_cell(self, sheet: str, ref: str) -> bool:
        """Is this cell formatted as a percentage (0.43 displayed as 43 %)?"""
        if self.format == "ods":
            row, col = split_ref(ref)
            return any(
                r0 <= row <= r1 and c0 <= col <= c1
                for r0, r1, c0, c1 in self.ods_percent.get(sheet, ())
            )
        scan = self.sheets.get(sheet)
        if scan is None or not scan.xml or not self.percent_styles():
            return False
        pattern = re.compile(
            rb"<" + _P + rb"c\s[^>]*?\br\s*=\s*" + _Q + re.escape(ref.encode()) + _Q + rb"[^>]*>"
        )
        m = pattern.search(scan.xml)
        if not m:
            return False
        sm = re.search(rb"\ss\s*=\s*" + _Q + rb"(\d+)", m.group(0))
        return bool(sm) and int(sm.group(1)) in self.percent_styles()


def percent_styles(styles_xml: bytes) -> frozenset[int]:
    """Indexes of the cell formats (cellXfs) whose number format shows a percentage."""
    if not styles_xml or not (
        b"%" in styles_xml or _BUILTIN_PERCENT.search(styles_xml)  # most workbooks have none
    ):
        return frozenset()
    pct_fmts = set(PERCENT_BUILTIN)
    for raw in _NUMFMT.findall(styles_xml):
        a = attrs(raw)
        code = re.sub(r'"[^"]*"|\\.', "", a.get("formatCode", ""))
        if "%" in code and a.get("numFmtId", "").isdigit():
            pct_fmts.add(int(a["numFmtId"]))
    xfs: set[int] = set()
    m = _CELLXFS.search(styles_xml)
    if m:
        for idx, raw in enumerate(_XF.findall(m.group(1))):
            fid = _NUMFMT_ID.search(raw)
            if fid and int(fid.group(1)) in pct_fmts:
                xfs.add(idx)
    return frozenset(xfs)


def attrs(raw: bytes) -> dict[str, str]:
    """The attributes of a start tag (namespace prefixes dropped, entities decoded)."""
    out = {}
    for k, v1, v2 in _ATTR.findall(raw):
        key = k.decode("utf-8", "replace").split(":")[-1]
        out[key] = html.unescape((v1 or v2).decode("utf-8", "replace"))
    return out


def refuse_far(scan: SheetScan, ref: str, limits: Limits) -> None:
    """Refuse a sheet with a value at `ref`, outside the grid or beyond the caps."""
    row, col = split_ref(ref)
    sheet = scan.name[:40]
    if row == 0 or row > MAX_ROW or col > MAX_COL or col == 0:
        detail = f"feuille « {sheet} » : référence de cellule hors de la grille ({ref[:12]})"
    elif row > limits.max_rows:
        detail = f"feuille « {sheet} » : une valeur en {ref}, au-delà de la ligne {limits.max_rows}"
    else:
        detail = (
            f"feuille « {sheet} » : une valeur en {ref}, au-delà de la colonne "
            f"{col_letters(limits.max_cols)}"
        )
    raise PreflightRefusal("too-large", detail, sheet=scan.name, cell=ref[:12])


def grouped(n: int) -> str:
    """12000000 → "12 000 000" (French grouping)."""
    return f"{n:,}".replace(",", " ")


class CellBudget:
    """Cells across all sheets, each sheet counted to its farthest value cell (the dense grid a
    reader allocates for it): refused past `Limits.max_cells`, as soon as a sheet crosses it."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0

    def add(self, scan: SheetScan) -> None:
        self.total += scan.max_row * scan.max_col
        if self.total > self.limits.max_cells:
            raise PreflightRefusal(
                "too-large",
                f"les feuilles couvrent {grouped(self.total)} cellules en tout, jusqu'à la "
                f"feuille « {scan.name[:40]} » (au plus {grouped(self.limits.max_cells)})",
                sheet=scan.name,
            )
