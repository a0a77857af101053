"""Pre-flight of an xlsx or xlsm workbook: every member streamed through the zip guard, then
the real extent of every sheet measured from the cells that carry a value (the largest reference
actually present, never the declared `<dimension>`), because python-calamine allocates the
dense grid up to the farthest value cell and aborts the whole process when that allocation fails.

Speed matters (about ten thousand workbooks a run): a well-formed sheet is checked with a few
C-speed regular-expression passes; anything unusual (cells without a reference, namespace
prefixes, single quotes, attributes in another order) goes through an exact expat scan that
places cells the way calamine does. Formulas without a cached value, external references and
error cells are noted on the way.

Total work is bounded too: two sheet entries naming one worksheet part are refused (each
reader would parse it once per entry), and the sheets' extents may add up to at most
`Limits.max_cells` cells.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from ptce_pipeline.config import Limits
from ptce_pipeline.content import col_letters, col_number
from ptce_pipeline.reading.preflight_model import (
    MAX_COL,
    MAX_ROW,
    NS_PREFIX,
    CellBudget,
    Preflight,
    PreflightRefusal,
    SheetScan,
    attrs,
    cell_ref,
    refuse_far,
)
from ptce_pipeline.reading.zipguard import XML_SUFFIXES, Budget, open_zip, read_member

_P = NS_PREFIX
_SHEET = re.compile(rb"<" + _P + rb"sheet\s([^>]*?)/?>")
_REL = re.compile(rb"<" + _P + rb"Relationship\s([^>]*?)/?>")
_CTAG = re.compile(rb"<" + _P + rb"c\s([^>]*?)(/?)>")
_CELL_END = re.compile(rb"</" + _P + rb"c>")
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]*)</" + _P + rb"v>")
_HAS_VALUE = re.compile(rb"<" + _P + rb"v>[^<]|<" + _P + rb"is[\s>]")
_FORMULA_TAG = re.compile(rb"<" + _P + rb"f[\s/>]")
_ERROR_TYPE = re.compile(rb"\bt\s*=\s*[\"']e[\"']")
_FORMULA_TEXT = re.compile(rb"<" + _P + rb"f\b[^>]*>([^<]*)</" + _P + rb"f>")
_OPEN_CELL = re.compile(rb'<c r="([A-Z]{1,3})([1-9]\d{0,6})"(?:[^>]*[^/>])?>')
_DATE1904 = re.compile(rb"date1904\s*=\s*[\"'](?:1|true)[\"']")
# One pass finds what needs a closer look: a cell or row tag that is not in the plain form
# `<c r="B5"` / `<row r="5"` (well-formed reference first) → the exact scan; a formula → the
# formulas' extraction.
_LOOK = re.compile(
    rb'<(?!c r="[A-Z]{1,3}[1-9]\d{0,6}"|row r="[1-9]\d{0,6}")(?:[\w.\-]+:)?(c|row|f)[\s/>]'
)


def sheet_targets(workbook: bytes, rels: bytes) -> list[tuple[str, str, str]]:
    """[(sheet name, state, member path)] from workbook.xml and its relationships."""
    targets = {}
    for raw in _REL.findall(rels):
        a = attrs(raw)
        if "Id" in a and "Target" in a:
            target = a["Target"].replace("\\", "/")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            parts: list[str] = []
            for part in target.split("/"):
                if part == "..":
                    if parts:
                        parts.pop()
                elif part not in ("", "."):
                    parts.append(part)
            targets[a["Id"]] = "/".join(parts).casefold()
    out = []
    for raw in _SHEET.findall(workbook):
        a = attrs(raw)
        out.append((a.get("name", ""), a.get("state", "visible"), targets.get(a.get("id", ""), "")))
    return out


def refuse_shared_parts(sheets: list[tuple[str, str, str]]) -> None:
    """Refuse sheet entries that name the same worksheet part: every reader would parse that
    part once per entry (twenty entries, twenty parses), and no spreadsheet program writes it."""
    first: dict[str, str] = {}
    for name, _state, path in sheets:
        if not path:
            continue
        if path in first:
            raise PreflightRefusal(
                "unsafe-archive",
                f"les feuilles « {first[path][:40]} » et « {name[:40]} » renvoient au même contenu",
                sheet=name,
            )
        first[path] = name


def preflight_xlsx(data: bytes, limits: Limits, fmt: str = "xlsx") -> Preflight:
    zf, infos = open_zip(data, limits)
    budget = Budget(limits)
    result = Preflight(format=fmt)
    by_name = {i.filename.replace("\\", "/").casefold(): i for i in infos if not i.is_dir()}

    def read(key: str, what: str) -> bytes:
        info = by_name.get(key)
        return read_member(zf, info, budget, keep=True, xml=True, what=what) if info else b""

    workbook = read("xl/workbook.xml", "workbook.xml")
    if not workbook:
        raise PreflightRefusal("corrupt-file", "workbook.xml manquant")
    rels = read("xl/_rels/workbook.xml.rels", "workbook.xml.rels")
    sheets = sheet_targets(workbook, rels)
    refuse_shared_parts(sheets)
    sheet_of = {path: name for name, _state, path in sheets if path}
    done = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    kept: dict[str, bytes] = {}
    scans: dict[str, SheetScan] = {}
    generous: list[SheetScan] = []  # extents counted from every non-empty cell tag
    for key, info in by_name.items():
        if key in done:
            continue
        is_xml = key.endswith(XML_SUFFIXES)
        what = f"la feuille « {sheet_of[key][:40]} »" if key in sheet_of else info.filename[:60]
        content = read_member(
            zf, info, budget, keep=is_xml, xml=is_xml, what=what, sheet=sheet_of.get(key)
        )
        if key.startswith("xl/externallinks/"):
            result.has_external_links = True
        elif key.endswith("vbaproject.bin"):
            result.has_macros = True
        if not is_xml:
            continue
        if key in ("xl/styles.xml", "docprops/custom.xml"):
            kept[key] = content
        elif b"sheetData" in content:
            # anything calamine could read as a worksheet, wherever the relationships point
            scan = SheetScan(name=sheet_of.get(key, info.filename), path=key, xml=content)
            if not measure_sheet(scan, limits):
                generous.append(scan)
            scans[key] = scan
    if sum(scan.max_row * scan.max_col for scan in scans.values()) > limits.max_cells:
        for scan in generous:  # over the bound: count the cells that carry a value only
            _extent(scan, exact=True)
    cells = CellBudget(limits)
    for scan in scans.values():  # each part once: no part is named by two sheets
        cells.add(scan)
    result.epoch1904 = bool(_DATE1904.search(workbook))
    result.styles_xml = kept.get("xl/styles.xml", b"")
    for name, state, path in sheets:
        scan = scans.get(path) or SheetScan(name=name, path=path)
        scan.name, scan.state = name, state
        result.sheets[name] = scan
    custom = kept.get("docprops/custom.xml", b"")
    for m in re.finditer(rb'name="ptce_([a-z0-9_]+)"[^>]*>\s*<[^>]*>([^<]*)<', custom):
        result.custom_props[m.group(1).decode()] = html.unescape(
            m.group(2).decode("utf-8", "replace")
        )
    return result


@lru_cache(maxsize=16)
def _far_pattern(max_cols: int, max_rows: int) -> re.Pattern:
    """Any `r` attribute, however spelled (a second one too: calamine keeps the last), whose
    value is not a well-formed reference (group 1) or is a cell beyond the caps (group 2).
    One C-speed pass."""
    cols = _beyond(col_letters(min(max_cols, MAX_COL)), "A", "Z", 3)
    rows = _beyond(str(min(max_rows, MAX_ROW)), "0", "9", 7)
    return re.compile(
        rb"r(?<![\w:.\-]r)\s*=\s*[\"'](?:"
        rb"(?![A-Z]{1,3}[1-9]\d{0,6}[\"']|[1-9]\d{0,6}[\"'])()"
        rb"|((?:" + cols + rb")[1-9]\d*|[A-Z]{1,3}(?:" + rows + rb"))[\"'])"
    )


def _beyond(top: str, lo: str, hi: str, longest: int) -> bytes:
    """Alternatives matching every token of the same alphabet that sorts after `top` (same
    length, lexicographically greater) or is longer (up to `longest` characters)."""
    first = "1" if lo == "0" else lo
    alts = []
    if len(top) < longest:
        alts.append(f"[{first}-{hi}][{lo}-{hi}]{{{len(top)},{longest - 1}}}")
    for i, ch in enumerate(top):
        if ch != hi:
            rest = len(top) - i - 1
            alts.append(
                re.escape(top[:i])
                + f"[{chr(ord(ch) + 1)}-{hi}]"
                + (f"[{lo}-{hi}]{{{rest}}}" if rest else "")
            )
    return "|".join(alts).encode() if alts else b"(?!)"


def measure_sheet(scan: SheetScan, limits: Limits) -> bool:
    """Refuse a sheet whose value cells go beyond the caps (or outside the grid); note its
    formulas without a cached value, error cells and external references. → whether the
    extent was measured exactly (else it counts every non-empty cell tag: `_extent`).

    calamine reads cells in the first `sheetData` only: the span from the first to the last
    mention of `sheetData` holds them all (the column settings before it and the validations
    and page setup after it are not scanned)."""
    xml = scan.xml
    first = xml.find(b"sheetData")
    if first < 0:
        return True
    body = xml[first : xml.rfind(b"sheetData")]
    found = {m.group(1) for m in _LOOK.finditer(body)}
    exact = b"c" in found or b"row" in found
    if not exact:
        far = _far_pattern(limits.max_cols, limits.max_rows)
        pos = 0
        while (m := far.search(body, pos)) is not None:
            if m.group(1) is not None:  # an odd reference somewhere: place every cell exactly
                exact = True
                break
            if _cell_has_value(body, m.end()):
                refuse_far(scan, m.group(2).decode(), limits)
            pos = m.end()
    if exact:
        _measure_exact(scan, limits)
    else:
        _extent(scan)
    if exact or b"f" in found:
        _formulas(scan)
    if exact or b'"e"' in body:
        _errors(scan)
    return exact


def _extent(scan: SheetScan, *, exact: bool = False) -> None:
    """The sheet's extent from its cells (every reference is plain here). A cell written
    `<c r="B5" …/>` is empty; any other counts — generously, unless `exact`, which looks inside
    each cell for a value (as calamine sees it): the generous count is one C-speed pass, and
    the exact one only runs when the generous total is over the bound."""
    xml = scan.xml
    first = xml.find(b"sheetData")
    body = xml[first : xml.rfind(b"sheetData")] if first >= 0 else b""
    rows = 0
    letters: set[bytes] = set()
    for m in _OPEN_CELL.finditer(body):
        if exact and not _cell_has_value(body, m.end() - 1):
            continue
        letters.add(m.group(1))
        rows = max(rows, int(m.group(2)))
    scan.max_row = rows
    scan.max_col = max((col_number(c.decode()) for c in letters), default=0)


def _cell_has_value(xml: bytes, pos: int) -> bool:
    """Does the cell whose start tag begins before `pos` carry a value (as calamine sees it)?"""
    end = xml.find(b">", pos)
    if end < 0 or xml[end - 1 : end] == b"/":
        return False
    close = _CELL_END.search(xml, end)
    body = xml[end + 1 : close.start() if close else len(xml)]
    return bool(_HAS_VALUE.search(body))


def _measure_exact(scan: SheetScan, limits: Limits) -> None:
    """Place every cell the way calamine does (a missing reference follows the previous cell
    or row) with expat; → refuse out-of-grid references and value cells beyond the caps."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    state = {"row": 0, "col": 0, "cell": None, "value": False, "in_v": False, "text": False}

    def bad(ref: str) -> None:
        raise PreflightRefusal(
            "too-large",
            f"feuille « {scan.name[:40]} » : référence de cellule invalide ({ref[:12]})",
            sheet=scan.name,
            cell=ref[:12],
        )

    def start(name, attrs):
        local = name.rpartition(" ")[2]
        if local == "row":
            r = attrs.get("r")
            if r is None:
                state["row"] += 1
            elif re.fullmatch(r"[1-9]\d{0,6}", r) and int(r) <= MAX_ROW:
                state["row"] = int(r)
            else:
                bad(r)
            state["col"] = 0
        elif local == "c":
            r = attrs.get("r")
            if r is None:
                state["col"] += 1
            else:
                m = re.fullmatch(r"([A-Z]{1,3})([1-9]\d{0,6})", r)
                if not m:
                    bad(r)
                state["col"] = col_number(m.group(1))
                state["row"] = int(m.group(2))
            state["cell"] = (state["row"], state["col"])
            state["value"] = False
        elif local == "v" and state["cell"]:
            state["in_v"] = True
        elif local == "is" and state["cell"]:
            state["value"] = True

    def chars(text):
        if state["in_v"] and text:
            state["value"] = True

    def end(name):
        local = name.rpartition(" ")[2]
        if local == "v":
            state["in_v"] = False
        elif local == "c" and state["cell"]:
            row, col = state["cell"]
            if state["value"]:
                if row > min(limits.max_rows, MAX_ROW) or col > min(limits.max_cols, MAX_COL):
                    refuse_far(scan, cell_ref(col, row), limits)
                scan.max_row = max(scan.max_row, row)
                scan.max_col = max(scan.max_col, col)
            state["cell"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(scan.xml, True)
    except expat.ExpatError as exc:
        raise PreflightRefusal(
            "corrupt-file", f"feuille « {scan.name[:40]} » illisible : {exc}"[:160], sheet=scan.name
        ) from None


def _enclosing_cell(xml: bytes, pos: int) -> tuple[dict[str, str], bytes] | None:
    """(attributes, body) of the cell element around position `pos`, or None."""
    tag = None
    for m in _CTAG.finditer(xml, max(0, pos - 2000), pos + 2000):
        if m.start() > pos:
            break
        tag = m
    if tag is None or tag.group(2):
        return None
    close = _CELL_END.search(xml, tag.end())
    end = close.start() if close else len(xml)
    if end < pos:
        return None
    return attrs(tag.group(1)), xml[tag.end() : end]


def _formulas(scan: SheetScan) -> None:
    for m in _FORMULA_TAG.finditer(scan.xml):
        found = _enclosing_cell(scan.xml, m.start())
        if found is None or "r" not in found[0]:
            continue
        a, body = found
        value = _VALUE.search(body)
        if value is None or not value.group(1).strip():
            scan.formulas_without_value.add(a["r"])
        text = _FORMULA_TEXT.search(body)
        if text and re.search(rb"\[\d+\]", text.group(1)):
            scan.external_formula_cells.add(a["r"])


def _errors(scan: SheetScan) -> None:
    for m in _ERROR_TYPE.finditer(scan.xml):
        found = _enclosing_cell(scan.xml, m.start())
        if found is None or found[0].get("t") != "e" or "r" not in found[0]:
            continue
        a, body = found
        value = _VALUE.search(body)
        text = html.unescape(value.group(1).decode("utf-8", "replace")) if value else ""
        scan.error_cells[a["r"]] = text.strip() or "#ERREUR"
