"""Bounds checked before any spreadsheet parser sees a file.

The zip is walked member by member, decompressed bytes are counted while streaming (the sizes
the archive declares are never trusted), member names and XML prologues are checked, and the
real extent of each sheet (largest cell reference actually present, not the declared
dimension) is measured. What the parser needs later (sheet XML, styles) is kept, so percent
formats, formulas without cached values and merged ranges are found without a second unzip.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field

from .config import Limits

MAX_COL = 16384  # XFD
MAX_ROW = 1048576
CHUNK = 1 << 20

_NS = rb"(?:[A-Za-z_][\w.\-]*:)?"
_FORMULA = re.compile(
    rb"<"
    + _NS
    + rb'c\s(?:[^>]*?\s)?r="([A-Za-z]{1,4}\d{1,9})"[^>]*>\s*<'
    + _NS
    + rb"f\b[^>]*?(?:/>|>([^<]*)</"
    + _NS
    + rb"f>)\s*(?:<"
    + _NS
    + rb"v>([^<]*)</"
    + _NS
    + rb"v>)?",
    re.S,
)
_ERROR_CELL = re.compile(
    rb"<" + _NS + rb'c\s([^>]*?\bt="e"[^>]*)>(.*?)</' + _NS + rb"c>", re.S
)  # a cell showing an error (#DIV/0!…): the parser reads it as empty
_MERGE = re.compile(rb"<" + _NS + rb'mergeCell\s+ref="([A-Za-z]+\d+(?::[A-Za-z]+\d+)?)"')
_SHEET = re.compile(rb"<" + _NS + rb"sheet\s([^>]*?)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<" + _NS + rb"Relationship\s([^>]*?)/?>")
_NUMFMT = re.compile(rb"<" + _NS + rb'numFmt\s[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')
_CELLXFS = re.compile(rb"<" + _NS + rb"cellXfs\b[^>]*>(.*?)</" + _NS + rb"cellXfs>", re.S)
_XF = re.compile(rb"<" + _NS + rb"xf\s([^>]*?)/?>")
_DTD = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
PERCENT_BUILTIN = {9, 10}


class PreflightRefusal(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@dataclass
class SheetScan:
    name: str
    path: str
    state: str = "visible"
    max_row: int = 0
    max_col: int = 0
    formulas_without_value: set[str] = field(default_factory=set)
    external_formula_cells: set[str] = field(default_factory=set)
    error_cells: dict[str, str] = field(default_factory=dict)  # ref → the error shown
    merged: list[str] = field(default_factory=list)
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
    _percent_xfs: set[int] | None = None
    ods_percent: dict[str, set[tuple[int, int]]] = field(default_factory=dict)

    def percent_styles(self) -> set[int]:
        if self._percent_xfs is None:
            custom = {int(i): code for i, code in _NUMFMT.findall(self.styles_xml)}
            pct_fmts = set(PERCENT_BUILTIN)
            for fid, code in custom.items():
                text = re.sub(rb'"[^"]*"', b"", code)
                if b"%" in text:
                    pct_fmts.add(fid)
            xfs: set[int] = set()
            m = _CELLXFS.search(self.styles_xml)
            if m:
                for idx, attrs in enumerate(_XF.findall(m.group(1))):
                    am = re.search(rb'numFmtId="(\d+)"', attrs)
                    if am and int(am.group(1)) in pct_fmts:
                        xfs.add(idx)
            self._percent_xfs = xfs
        return self._percent_xfs

    def is_percent_cell(self, sheet: str, ref: str) -> bool:
        if self.format == "ods":
            row, col = _split_ref(ref)
            return (row, col) in self.ods_percent.get(sheet, set())
        scan = self.sheets.get(sheet)
        if scan is None or not scan.xml:
            return False
        m = re.search(rb"<" + _NS + rb'c\s(?:[^>]*?\s)?r="' + ref.encode() + rb'"[^>]*>', scan.xml)
        if not m:
            return False
        sm = re.search(rb'\ss="(\d+)"', m.group(0))
        return bool(sm) and int(sm.group(1)) in self.percent_styles()


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.match(r"([A-Z]+)(\d+)", ref)
    if not m:
        return 0, 0
    return int(m.group(2)), col_number(m.group(1))


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return True
    parts = re.split(r"[\\/]", name)
    return any(p == ".." for p in parts)


def _read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: Limits,
    total: list[int],
    keep: bool,
    xml: bool,
) -> bytes:
    out = io.BytesIO() if keep else None
    size = 0
    tail = b""
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                total[0] += len(chunk)
                if size > limits.max_member_bytes:
                    raise PreflightRefusal(
                        "too-large",
                        f"l'élément {info.filename[:60]} dépasse {limits.max_member_bytes // (1024 * 1024)} Mo une fois décompressé",
                    )
                if total[0] > limits.max_total_bytes:
                    raise PreflightRefusal(
                        "too-large",
                        f"plus de {limits.max_total_bytes // (1024 * 1024)} Mo une fois décompressé",
                    )
                if (
                    info.compress_size
                    and size > 10 * CHUNK
                    and size / info.compress_size > limits.max_ratio
                ):
                    raise PreflightRefusal(
                        "too-large", f"taux de compression anormal ({info.filename[:60]})"
                    )
                if xml:
                    window = tail + chunk
                    if any(tok in window for tok in _DTD):
                        raise PreflightRefusal("forbidden-xml", info.filename[:60])
                    tail = chunk[-16:]
                if out is not None:
                    out.write(chunk)
    except PreflightRefusal:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise PreflightRefusal(
            "corrupt-file", f"élément {info.filename[:60]} illisible : {exc}"[:160]
        ) from None
    except Exception as exc:  # zlib.error and friends
        raise PreflightRefusal(
            "corrupt-file", f"élément {info.filename[:60]} illisible : {exc}"[:160]
        ) from None
    return out.getvalue() if out is not None else b""


def _attrs(raw: bytes) -> dict[str, str]:
    out = {}
    for k, v in _ATTR.findall(raw):
        key = k.decode("utf-8", "replace").split(":")[-1]
        out[key] = html.unescape(v.decode("utf-8", "replace"))
    return out


def _open_zip(data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise PreflightRefusal("corrupt-file", f"archive illisible : {exc}"[:160]) from None
    if len(infos) > limits.max_zip_entries:
        raise PreflightRefusal(
            "too-large", f"{len(infos)} éléments dans l'archive (au plus {limits.max_zip_entries})"
        )
    for info in infos:
        if _unsafe_name(info.filename):
            raise PreflightRefusal("unsafe-archive", f"chemin interdit « {info.filename[:60]} »")
        if info.flag_bits & 0x1:
            raise PreflightRefusal("encrypted-file")
    return zf, infos


def preflight_xlsx(data: bytes, limits: Limits, fmt: str = "xlsx") -> Preflight:
    zf, infos = _open_zip(data, limits)
    total = [0]
    kept: dict[str, bytes] = {}
    result = Preflight(format=fmt)
    for info in infos:
        name = info.filename
        low = name.lower()
        if info.is_dir():
            continue
        is_xml = low.endswith((".xml", ".rels", ".vml"))
        keep = low in (
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "docprops/custom.xml",
        ) or (low.startswith("xl/worksheets/") and low.endswith(".xml"))
        content = _read_member(zf, info, limits, total, keep, is_xml)
        if keep:
            kept[low] = content
        if low.startswith("xl/externallinks/"):
            result.has_external_links = True
        if low == "xl/vbaproject.bin":
            result.has_macros = True
    workbook = kept.get("xl/workbook.xml", b"")
    if not workbook:
        raise PreflightRefusal("corrupt-file", "workbook.xml manquant")
    result.epoch1904 = bool(re.search(rb'date1904="(1|true)"', workbook))
    rels = {}
    for raw in _REL.findall(kept.get("xl/_rels/workbook.xml.rels", b"")):
        a = _attrs(raw)
        if "Id" in a and "Target" in a:
            target = a["Target"].lstrip("/")
            if not target.startswith("xl/"):
                target = "xl/" + target
            rels[a["Id"]] = target.lower()
    result.styles_xml = kept.get("xl/styles.xml", b"")
    for raw in _SHEET.findall(workbook):
        a = _attrs(raw)
        name = a.get("name", "")
        target = rels.get(a.get("id", ""), "")
        xml = kept.get(target, b"")
        scan = SheetScan(name=name, path=target, state=a.get("state", "visible"), xml=xml)
        _scan_sheet(scan, limits)
        result.sheets[name] = scan
    custom = kept.get("docprops/custom.xml", b"")
    for m in re.finditer(rb'name="(ptce_[a-z0-9_]+)"[^>]*>\s*<[^>]*>([^<]*)<', custom):
        result.custom_props[m.group(1).decode()[5:]] = html.unescape(
            m.group(2).decode("utf-8", "replace")
        )
    return result


def _too_far_cols(max_cols: int) -> re.Pattern:
    """A regex that finds a cell reference beyond `max_cols` (one pass at C speed)."""
    letters = _ref(max_cols, 1)[:-1]
    alts = [rb"[A-Z]{%d,}" % (len(letters) + 1)]
    for i, ch in enumerate(letters):
        prefix = letters[:i].encode()
        if ch != "Z":
            nxt = chr(ord(ch) + 1)
            rest = len(letters) - i - 1
            alts.append(
                prefix + b"[" + nxt.encode() + b"-Z]" + (b"[A-Z]{%d}" % rest if rest else b"")
            )
    return re.compile(rb' r="(?:' + b"|".join(alts) + rb")\d")


_FAR_COLS: dict[int, re.Pattern] = {}
_ROW_REF = re.compile(rb"<row\s[^>]*?r=\"(\d{1,9})\"")
_ROW_REF_NS = re.compile(rb"<" + _NS + rb"row\s[^>]*?r=\"(\d{1,9})\"")
_BIG_REF = re.compile(rb' r="[A-Za-z]{0,4}(\d{5,})"')
_BAD_REF = re.compile(rb' r="(?:[A-Za-z]{0,4}0+|[A-Za-z]{4,}\d+|[a-z]{1,3}\d+)"')


def _scan_sheet(scan: SheetScan, limits: Limits) -> None:
    xml = scan.xml
    if not xml:
        return
    rows = _ROW_REF.findall(xml) if b"<row" in xml else _ROW_REF_NS.findall(xml)
    max_row = max(map(int, rows), default=0)
    for big in _BIG_REF.findall(xml):
        max_row = max(max_row, int(big))
    if max_row > MAX_ROW or _BAD_REF.search(xml):
        raise PreflightRefusal(
            "too-large", f"feuille « {scan.name[:40]} » : référence de cellule hors de la grille"
        )
    if max_row > limits.max_rows:
        raise PreflightRefusal(
            "too-large",
            f"feuille « {scan.name[:40]} » : données jusqu'à la ligne {max_row} (au plus {limits.max_rows})",
        )
    far = _FAR_COLS.get(limits.max_cols)
    if far is None:
        far = _FAR_COLS[limits.max_cols] = _too_far_cols(limits.max_cols)
    m = far.search(xml)
    if m:
        raise PreflightRefusal(
            "too-large",
            f"feuille « {scan.name[:40]} » : cellule au-delà de la colonne {limits.max_cols}",
        )
    scan.max_row = max_row
    if b"<f" in xml or b":f>" in xml or b":f " in xml:
        for ref, formula, value in _FORMULA.findall(xml):
            ref_s = ref.decode()
            if not value.strip():
                scan.formulas_without_value.add(ref_s)
            if re.search(rb"\[\d+\]", formula):
                scan.external_formula_cells.add(ref_s)
    if b't="e"' in xml:
        for attrs, body in _ERROR_CELL.findall(xml):
            ref_m = re.search(rb'\sr="([A-Za-z]{1,4}\d{1,9})"', b" " + attrs)
            value_m = re.search(rb"<" + _NS + rb"v>([^<]*)</", body)
            if ref_m:
                shown = value_m.group(1).decode("utf-8", "replace") if value_m else "#ERREUR"
                scan.error_cells[ref_m.group(1).decode()] = shown
    if b"mergeCell" in xml:
        scan.merged = [m.decode() for m in _MERGE.findall(xml)]


# --- OpenDocument -----------------------------------------------------------------------------
_T = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_O = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TX = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def preflight_ods(data: bytes, limits: Limits) -> Preflight:
    zf, infos = _open_zip(data, limits)
    total = [0]
    content = b""
    result = Preflight(format="ods")
    for info in infos:
        if info.is_dir():
            continue
        low = info.filename.lower()
        is_xml = low.endswith((".xml", ".rdf"))
        keep = low == "content.xml"
        blob = _read_member(zf, info, limits, total, keep, is_xml)
        if keep:
            content = blob
        if low.startswith("basic/") or low.startswith("scripts/"):
            result.has_macros = True
    if not content:
        raise PreflightRefusal("corrupt-file", "content.xml manquant")
    _scan_ods(content, result, limits)
    return result


def _scan_ods(content: bytes, result: Preflight, limits: Limits) -> None:
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    state = {
        "sheet": None,
        "row": 0,
        "col": 0,
        "row_rep": 1,
        "row_has": False,
        "depth_cell": 0,
        "cell_rep": 1,
        "cell_has": False,
        "cell_pct": False,
        "cell_formula": False,
        "cell_value": False,
        "cell_text": False,
    }
    cap_rows = limits.max_rows
    cap_cols = limits.max_cols

    def too_large(what: str):
        raise PreflightRefusal("too-large", what)

    def start(name, attrs):
        ns, _, local = name.rpartition(" ")
        if ns == _T and local == "table":
            sheet = attrs.get(f"{_T} name", "")
            scan = SheetScan(name=sheet, path="content.xml")
            if attrs.get(f"{_T} display") == "false":
                scan.state = "hidden"
            result.sheets[sheet] = scan
            state["sheet"] = scan
            state["row"] = 0
        elif ns == _T and local == "table-row" and state["sheet"] is not None:
            state["row_rep"] = int(attrs.get(f"{_T} number-rows-repeated", "1") or 1)
            state["row_has"] = False
            state["col"] = 0
        elif (
            ns == _T
            and local in ("table-cell", "covered-table-cell")
            and state["sheet"] is not None
        ):
            state["cell_rep"] = int(attrs.get(f"{_T} number-columns-repeated", "1") or 1)
            vt = attrs.get(f"{_O} value-type")
            state["cell_value"] = vt is not None
            state["cell_pct"] = vt == "percentage"
            state["cell_formula"] = f"{_T} formula" in attrs
            state["cell_text"] = False
            state["depth_cell"] = 1
            spans = attrs.get(f"{_T} number-rows-spanned")
            if spans and local == "table-cell" and int(spans) > 1:
                cs = int(attrs.get(f"{_T} number-columns-spanned", "1") or 1)
                r0 = state["row"] + 1
                c0 = state["col"] + 1
                state["sheet"].merged.append(
                    f"{_ref(c0, r0)}:{_ref(c0 + cs - 1, r0 + int(spans) - 1)}"
                )
        elif ns == _TX and local == "p" and state["depth_cell"]:
            state["cell_text"] = True

    def end(name):
        ns, _, local = name.rpartition(" ")
        scan = state["sheet"]
        if scan is None:
            return
        if ns == _T and local in ("table-cell", "covered-table-cell"):
            rep = state["cell_rep"]
            has = state["cell_value"] or state["cell_text"]
            first_col = state["col"] + 1
            state["col"] += rep
            if has:
                state["row_has"] = True
                if state["col"] > scan.max_col:
                    scan.max_col = state["col"]
                if scan.max_col > cap_cols:
                    too_large(
                        f"feuille « {scan.name[:40]} » : données jusqu'à la colonne {scan.max_col} (au plus {cap_cols})"
                    )
                row = state["row"] + 1
                if state["cell_pct"]:
                    result.ods_percent.setdefault(scan.name, set()).update(
                        (row, c) for c in range(first_col, state["col"] + 1)
                    )
                if state["cell_formula"] and not state["cell_value"]:
                    scan.formulas_without_value.add(_ref(first_col, row))
            state["depth_cell"] = 0
        elif ns == _T and local == "table-row":
            rep = state["row_rep"]
            state["row"] += rep
            if state["row_has"]:
                scan.max_row = state["row"]
                if scan.max_row > cap_rows:
                    too_large(
                        f"feuille « {scan.name[:40]} » : données jusqu'à la ligne {scan.max_row} (au plus {cap_rows})"
                    )
        elif ns == _T and local == "table":
            state["sheet"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise PreflightRefusal("corrupt-file", f"content.xml illisible : {exc}"[:160]) from None


def _ref(col: int, row: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def run_preflight(data: bytes, fmt: str, limits: Limits) -> Preflight:
    if len(data) > limits.max_file_bytes:
        raise PreflightRefusal(
            "too-large",
            f"fichier de {len(data) // (1024 * 1024)} Mo (au plus {limits.max_file_bytes // (1024 * 1024)} Mo)",
        )
    if fmt == "ods":
        return preflight_ods(data, limits)
    return preflight_xlsx(data, limits, fmt)
