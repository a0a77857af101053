"""Bounds checked before any spreadsheet parser sees a file.

The zip is walked member by member and the decompressed bytes are counted while streaming (the
sizes the archive declares are never trusted); member names, duplicate names, encryption flags,
XML prologues (no DTD, no entity, no UTF-16) are checked; and the real extent of every sheet is
measured from the cells that carry a value (the largest reference actually present, never the
declared `<dimension>`), because python-calamine allocates the dense grid up to the farthest
value cell and aborts the whole process when that allocation fails.

Speed matters (about ten thousand workbooks a run): a well-formed sheet is checked with a few
C-speed regular-expression passes; anything unusual (cells without a reference, namespace
prefixes, single quotes, attributes in another order) goes through an exact expat scan that
places cells the way calamine does. What the reader needs later (sheet XML, styles, document
properties) is kept, so percent formats, formulas without cached values, error cells and merged
ranges are found without a second unzip.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

from ptce_pipeline.config import Limits
from ptce_pipeline.content.model import col_letters, col_number, split_ref

MAX_COL = 16384  # XFD
MAX_ROW = 1048576
CHUNK = 1 << 20
MIB = 1024 * 1024

_P = rb"(?:[A-Za-z_][\w.\-]*:)?"  # optional namespace prefix
_Q = rb"[\"']"
_SHEET = re.compile(rb"<" + _P + rb"sheet\s([^>]*?)/?>")
_ATTR = re.compile(rb"([\w:.\-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REL = re.compile(rb"<" + _P + rb"Relationship\s([^>]*?)/?>")
_NUMFMT = re.compile(rb"<" + _P + rb"numFmt\s([^>]*?)/?>")
_CELLXFS = re.compile(rb"<" + _P + rb"cellXfs\b[^>]*>(.*?)</" + _P + rb"cellXfs>", re.S)
_XF = re.compile(rb"<" + _P + rb"xf\b([^>]*?)/?>")
_BUILTIN_PERCENT = re.compile(rb"numFmtId\s*=\s*[\"'](?:9|10)[\"']")
_NUMFMT_ID = re.compile(rb"numFmtId\s*=\s*[\"'](\d+)")
_MERGE = re.compile(
    rb"<" + _P + rb"mergeCell\s[^>]*?ref\s*=\s*" + _Q + rb"([A-Za-z]+\d+(?::[A-Za-z]+\d+)?)"
)
_CTAG = re.compile(rb"<" + _P + rb"c\s([^>]*?)(/?)>")
_CELL_END = re.compile(rb"</" + _P + rb"c>")
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]*)</" + _P + rb"v>")
_HAS_VALUE = re.compile(rb"<" + _P + rb"v>[^<]|<" + _P + rb"is[\s>]")
_FORMULA_TAG = re.compile(rb"<" + _P + rb"f[\s/>]")
_ERROR_TYPE = re.compile(rb"\bt\s*=\s*[\"']e[\"']")
_FORMULA_TEXT = re.compile(rb"<" + _P + rb"f\b[^>]*>([^<]*)</" + _P + rb"f>")
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_DATE1904 = re.compile(rb"date1904\s*=\s*[\"'](?:1|true)[\"']")
# One pass finds what needs a closer look: a cell or row tag that is not in the plain form
# `<c r="B5"` / `<row r="5"` (well-formed reference first) → the exact scan; a formula → the
# formulas' extraction.
_LOOK = re.compile(
    rb'<(?!c r="[A-Z]{1,3}[1-9]\d{0,6}"|row r="[1-9]\d{0,6}")(?:[\w.\-]+:)?(c|row|f)[\s/>]'
)
PERCENT_BUILTIN = frozenset({9, 10})
# Members calamine or openpyxl may parse as XML
_XML_SUFFIXES = (".xml", ".rels", ".vml", ".rdf")


class PreflightRefusal(Exception):
    """The file is refused before any parser runs. `sheet`/`cell` locate the cause if known."""

    def __init__(self, code: str, detail: str = "", *, sheet: str | None = None, cell=None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.sheet = sheet
        self.cell = cell


def _ref(col: int, row: int) -> str:
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
        a = _attrs(raw)
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


def _attrs(raw: bytes) -> dict[str, str]:
    out = {}
    for k, v1, v2 in _ATTR.findall(raw):
        key = k.decode("utf-8", "replace").split(":")[-1]
        out[key] = html.unescape((v1 or v2).decode("utf-8", "replace"))
    return out


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return True
    return any(p == ".." for p in re.split(r"[\\/]", name))


def _mib(n: int) -> str:
    return f"{n / MIB:.0f} Mo" if n >= MIB else f"{n} octets"


# --- the zip ----------------------------------------------------------------------------------
def _open_zip(data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise PreflightRefusal("corrupt-file", f"archive illisible : {exc}"[:160]) from None
    if len(infos) > limits.max_zip_entries:
        raise PreflightRefusal(
            "too-large", f"{len(infos)} éléments dans l'archive (au plus {limits.max_zip_entries})"
        )
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise PreflightRefusal("unsafe-archive", f"chemin interdit « {name[:60]} »")
        key = name.replace("\\", "/").casefold()
        if key in seen:
            raise PreflightRefusal("unsafe-archive", f"élément en double « {name[:60]} »")
        seen.add(key)
        if info.flag_bits & 0x1:
            raise PreflightRefusal("encrypted-file")
    return zf, infos


class _Budget:
    """Decompressed bytes counted across the whole archive."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0


def _read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    *,
    keep: bool,
    xml: bool,
    what: str,
    sheet: str | None = None,
) -> bytes:
    """Stream one member: count its bytes against the caps, refuse DTDs; → its bytes if kept.
    `what` names the member in messages, `sheet` is the sheet it holds, if any."""
    try:
        return _stream(zf, info, budget, keep=keep, xml=xml, what=what)
    except PreflightRefusal as exc:
        exc.sheet = exc.sheet or sheet
        raise


def _stream(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, *, keep: bool, xml: bool, what: str
) -> bytes:
    limits = budget.limits
    chunks: list[bytes] = []
    size = 0
    tail = b""
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                budget.total += len(chunk)
                if size > limits.max_member_bytes:
                    raise PreflightRefusal(
                        "too-large",
                        f"{what} dépasse {_mib(limits.max_member_bytes)} une fois décompressé",
                    )
                if budget.total > limits.max_total_bytes:
                    raise PreflightRefusal(
                        "too-large",
                        f"le classeur dépasse {_mib(limits.max_total_bytes)} une fois décompressé",
                    )
                if size > 10 * CHUNK and size > limits.max_ratio * max(1, info.compress_size):
                    raise PreflightRefusal("too-large", f"taux de compression anormal ({what})")
                if xml:
                    if not tail and (
                        chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in chunk[:64]
                    ):
                        raise PreflightRefusal("forbidden-xml", f"{what} encodé en UTF-16")
                    # a declaration split between two reads is caught through the tail kept
                    if (b"<!" in chunk or b"<" in tail) and _DTD.search(tail + chunk):
                        raise PreflightRefusal("forbidden-xml", what)
                    tail = chunk[-32:]
                if keep:
                    chunks.append(chunk)
    except PreflightRefusal:
        raise
    except Exception as exc:  # zlib.error, BadZipFile (CRC, header mismatch), EOFError…
        raise PreflightRefusal(
            "corrupt-file", f"élément {info.filename[:60]} illisible : {exc}"[:160]
        ) from None
    return b"".join(chunks)


# --- xlsx / xlsm ------------------------------------------------------------------------------
def _sheet_targets(workbook: bytes, rels: bytes) -> list[tuple[str, str, str]]:
    """[(sheet name, state, member path)] from workbook.xml and its relationships."""
    targets = {}
    for raw in _REL.findall(rels):
        a = _attrs(raw)
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
        a = _attrs(raw)
        out.append((a.get("name", ""), a.get("state", "visible"), targets.get(a.get("id", ""), "")))
    return out


def preflight_xlsx(data: bytes, limits: Limits, fmt: str = "xlsx") -> Preflight:
    zf, infos = _open_zip(data, limits)
    budget = _Budget(limits)
    result = Preflight(format=fmt)
    by_name = {i.filename.replace("\\", "/").casefold(): i for i in infos if not i.is_dir()}

    def read(key: str, what: str) -> bytes:
        info = by_name.get(key)
        return _read_member(zf, info, budget, keep=True, xml=True, what=what) if info else b""

    workbook = read("xl/workbook.xml", "workbook.xml")
    if not workbook:
        raise PreflightRefusal("corrupt-file", "workbook.xml manquant")
    rels = read("xl/_rels/workbook.xml.rels", "workbook.xml.rels")
    sheets = _sheet_targets(workbook, rels)
    sheet_of = {path: name for name, _state, path in sheets if path}
    done = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    kept: dict[str, bytes] = {}
    scans: dict[str, SheetScan] = {}
    for key, info in by_name.items():
        if key in done:
            continue
        is_xml = key.endswith(_XML_SUFFIXES)
        what = f"la feuille « {sheet_of[key][:40]} »" if key in sheet_of else info.filename[:60]
        content = _read_member(
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
            measure_sheet(scan, limits)
            scans[key] = scan
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


def measure_sheet(scan: SheetScan, limits: Limits) -> None:
    """Refuse a sheet whose value cells go beyond the caps (or outside the grid); note its
    formulas without a cached value, error cells and external references.

    calamine reads cells in the first `sheetData` only: the span from the first to the last
    mention of `sheetData` holds them all (the column settings before it and the validations
    and page setup after it are not scanned)."""
    xml = scan.xml
    first = xml.find(b"sheetData")
    if first < 0:
        return
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
                _refuse_far(scan, m.group(2).decode(), limits)
            pos = m.end()
    if exact:
        _measure_exact(scan, limits)
    if exact or b"f" in found:
        _formulas(scan)
    if exact or b'"e"' in body:
        _errors(scan)


def _cell_has_value(xml: bytes, pos: int) -> bool:
    """Does the cell whose start tag begins before `pos` carry a value (as calamine sees it)?"""
    end = xml.find(b">", pos)
    if end < 0 or xml[end - 1 : end] == b"/":
        return False
    close = _CELL_END.search(xml, end)
    body = xml[end + 1 : close.start() if close else len(xml)]
    return bool(_HAS_VALUE.search(body))


def _refuse_far(scan: SheetScan, ref: str, limits: Limits) -> None:
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
                    _refuse_far(scan, _ref(col, row), limits)
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
    return _attrs(tag.group(1)), xml[tag.end() : end]


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


# --- OpenDocument -----------------------------------------------------------------------------
# calamine matches OpenDocument elements by their qualified names (`table:table-cell`), not by
# namespace: so does the scan below.
_META_USER = re.compile(
    rb"<meta:user-defined\b[^>]*?meta:name=\"ptce_([a-z0-9_]+)\"[^>]*>([^<]*)</meta:user-defined>"
)


def preflight_ods(data: bytes, limits: Limits) -> Preflight:
    zf, infos = _open_zip(data, limits)
    budget = _Budget(limits)
    content = b""
    result = Preflight(format="ods")
    for info in infos:
        if info.is_dir():
            continue
        low = info.filename.replace("\\", "/").casefold()
        is_xml = low.endswith(_XML_SUFFIXES)
        keep = low in ("content.xml", "meta.xml", "meta-inf/manifest.xml")
        blob = _read_member(zf, info, budget, keep=keep, xml=is_xml, what=info.filename[:60])
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

    def table_start(self, name: str) -> None:
        self.depth += 1  # a table inside a table (shapes…) is not part of the grid
        if self.depth == 1:
            self.scan = SheetScan(name=name, path="content.xml")
            self.result.sheets[name] = self.scan
            self.row = 0

    def table_end(self) -> None:
        self.depth -= 1
        if self.depth == 0:
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
            scan.merged.append(f"{_ref(c0, r0)}:{_ref(c0 + cs - 1, r0 + _count(spans) - 1)}")
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
            scan.formulas_without_value.add(_ref(first, row))
        if a.get("calcext:value-type") == "error":
            scan.error_cells[_ref(first, row)] = text.strip() or "#ERREUR"


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
    _refuse_far(scan, _ref(min(col, MAX_COL + 1), min(row, MAX_ROW + 1)), limits)


def run_preflight(data: bytes, fmt: str, limits: Limits) -> Preflight:
    if len(data) > limits.max_file_bytes:
        raise PreflightRefusal(
            "too-large",
            f"fichier de {_mib(len(data))} (au plus {_mib(limits.max_file_bytes)})",
        )
    if fmt == "ods":
        return preflight_ods(data, limits)
    return preflight_xlsx(data, limits, fmt)
