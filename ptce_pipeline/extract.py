"""From raw sheet grids to the pole's data, every value carrying its cell address.

Matching is by header text (case, accents, spaces and a trailing "*" ignored) and by
indicator/criterion code, never by position alone, so blank, inserted and re-ordered rows and
re-ordered columns keep the right addresses. Values are cleaned and coerced here (French
numbers, years, dates, codes); a cell that cannot be coerced becomes an issue and the rest of
the file is still read. Checks against the catalogue (bounds, lists, required…) are pandera's
job, in `validation`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from . import TEMPLATE_VERSION
from . import issues as I
from . import layout as L
from . import values as V
from .referentiel import Referentiel, fold
from .workbook import RawSheet, RawWorkbook

_CODE_RE = re.compile(r"^[A-Z]{1,6}[-_]?\d{1,4}$")
MAX_TEXT = 2000


def col_letter(idx: int) -> str:
    """0-based column index → letters."""
    idx += 1
    out = ""
    while idx:
        idx, rem = divmod(idx - 1, 26)
        out = chr(65 + rem) + out
    return out


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
    flagged: set[tuple[str, str]] = field(
        default_factory=set
    )  # (sheet, cell) with a coercion issue
    sheet_names: dict[str, str] = field(default_factory=dict)  # template name → name in the file
    empty: bool = False

    def add(self, issue: I.Issue) -> None:
        self.issues.append(issue)
        if issue.sheet and issue.cell and issue.severity == I.ERREUR:
            self.flagged.add((issue.sheet, issue.cell))


def _hkey(text: Any) -> str:
    if text is None or text == "":
        return ""
    key = fold(str(text))
    key = re.sub(r"\(.*?\)", "", key)
    key = key.replace("*", "").replace(":", "")
    return " ".join(key.split())


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _find_header(sheet: RawSheet, wanted: dict[str, str]) -> tuple[int | None, dict[str, int]]:
    """Find the header row among the first rows: the one matching most of `wanted`
    (folded header → key). Returns (row index, key → column index)."""
    best: tuple[int, int | None, dict[str, int]] = (0, None, {})
    for r, row in enumerate(sheet.rows[: L.HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            key = wanted.get(_hkey(value))
            if key and key not in found:
                found[key] = c
        if len(found) > best[0]:
            best = (len(found), r, found)
    return best[1], best[2]


def _cell_value(sheet: RawSheet, r: int, c: int) -> Any:
    if r < len(sheet.rows) and c < len(sheet.rows[r]):
        value = sheet.rows[r][c]
        return None if value == "" else value
    return None


class _Reader:
    def __init__(self, raw: RawWorkbook, ref: Referentiel):
        self.raw = raw
        self.ref = ref
        self.content = Content(format=raw.format)
        self.pre = raw.preflight
        self.region_lookup = ref.geography.region_lookup()

    # -- shared cell handling -------------------------------------------------------------------
    def _formula_problem(self, sheet: RawSheet, r: int, c: int, raw: Any) -> bool:
        a = addr(r, c)
        scan = self.pre.sheets.get(sheet.name)
        if scan is not None and a in scan.formulas_without_value and _is_blank(raw):
            self.content.add(I.make("formula-without-value", sheet=sheet.name, cell=a))
            return True
        if scan is not None and a in scan.error_cells and _is_blank(raw):
            self.content.add(
                I.make("formula-error", sheet=sheet.name, cell=a, value=scan.error_cells[a])
            )
            return True
        if V.is_error_value(raw):
            self.content.add(I.make("formula-error", sheet=sheet.name, cell=a, value=raw))
            return True
        return False

    def _text(
        self, sheet: RawSheet, a: str, raw: Any, label: str, column: str | None = None
    ) -> str | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, dt.datetime | dt.date):
            raw = raw.strftime("%d/%m/%Y")
        text, removed = V.clean_text(raw)
        if text is not None and removed:
            self.content.add(
                I.make(
                    "invisible-characters",
                    sheet=sheet.name,
                    cell=a,
                    column=column,
                    value=text,
                    label=label,
                )
            )
        if text is not None and len(text) > MAX_TEXT:
            self.content.add(
                I.make(
                    "text-too-long",
                    sheet=sheet.name,
                    cell=a,
                    column=column,
                    value=text,
                    label=label,
                    length=len(text),
                    max=MAX_TEXT,
                )
            )
            return None
        return text

    def parse(
        self,
        sheet: RawSheet,
        r: int,
        c: int,
        kind: str,
        label: str,
        *,
        liste: str | None = None,
        column: str | None = None,
    ) -> Cell:
        raw = _cell_value(sheet, r, c)
        a = addr(r, c)
        if self._formula_problem(sheet, r, c, raw):
            return Cell(None, a, raw)
        value: Any = None
        problem = None
        if kind in ("count", "euros", "fte", "percent", "m2", "scale"):
            pct = (
                kind == "percent"
                and isinstance(raw, float)
                and 0 < abs(raw) <= 1.5
                and self.pre.is_percent_cell(sheet.name, a)
            )
            value, problem = V.parse_number(raw, kind=kind, percent_cell=pct)
        elif kind in ("year", "period"):
            value, problem = V.parse_year(raw)
        elif kind == "date":
            value, problem = V.parse_date(raw, epoch1904=self.raw.epoch1904)
        elif kind == "siret":
            value = V.normalize_siret(raw)
        elif kind == "commune":
            value = V.normalize_commune(raw)
        elif kind == "departement":
            value = V.normalize_departement(raw)
        elif kind == "pole_id":
            value, _valid = V.normalize_pole_id(raw)
        elif kind == "region":
            text = self._text(sheet, a, raw, label, column)
            if text is not None and not V.is_null_like(text):
                key = fold(text)
                code = self.region_lookup.get(key) or self.region_lookup.get(key.zfill(2))
                if code is None and key in self.ref.geography.old_regions:
                    code = self.ref.geography.old_regions[key]
                    self.content.add(
                        I.make(
                            "old-region-name",
                            sheet=sheet.name,
                            cell=a,
                            column=column,
                            value=text,
                            region=self.ref.geography.regions[code],
                        )
                    )
                value = code or text
        elif kind == "code":
            text = self._text(sheet, a, raw, label, column)
            if text is not None and not V.is_null_like(text):
                lookup = self.ref.lists[liste].lookup if liste else {}
                value = lookup.get(fold(text), text)
        elif kind == "answer":
            value, problem = V.parse_answer(raw)
            if problem:
                value, problem = self._text(sheet, a, raw, label, column), None
        else:  # text, email
            value = self._text(sheet, a, raw, label, column)
            if kind == "email" and value is not None and V.is_null_like(value):
                value = None
        if problem is not None:
            code, params = problem
            extra = {"label": label, "min": 1900, "max": 2100, **params}
            self.content.add(
                I.make(code, sheet=sheet.name, cell=a, column=column, value=raw, **extra)
            )
        return Cell(value, a, raw)

    # -- sheets ---------------------------------------------------------------------------------
    def sheet(self, template_name: str) -> RawSheet | None:
        wanted = fold(template_name)
        for name, sheet in self.raw.sheets.items():
            if fold(name) == wanted:
                self.content.sheet_names[template_name] = name
                if sheet.hidden:
                    self.content.add(I.make("hidden-sheet", sheet=name, expected=template_name))
                return sheet
        return None

    def _merged_in(self, sheet: RawSheet, rows: range, cols: set[int]) -> None:
        for (r0, c0), (r1, c1) in sheet.merged:
            if r1 > r0 and any(c0 <= c <= c1 for c in cols) and (r0 in rows or r1 in rows):
                rng = f"{addr(r0, c0)}:{addr(r1, c1)}"
                self.content.add(
                    I.make("merged-cells", sheet=sheet.name, cell=addr(r0, c0), range=rng)
                )

    def _outside(self, sheet: RawSheet, width: int) -> None:
        for r, row in enumerate(sheet.rows):
            if len(row) <= width:
                continue
            for c in range(width, len(row)):
                if not _is_blank(row[c]):
                    self.content.add(
                        I.make(
                            "data-outside-table", sheet=sheet.name, cell=addr(r, c), value=row[c]
                        )
                    )
                    return

    def meta(self) -> None:
        meta: dict[str, str] = {}
        sheet = self.sheet(L.SHEET_META)
        if sheet is not None:
            for row in sheet.rows[:20]:
                if len(row) >= 2 and isinstance(row[0], str) and row[0] in L.META_KEYS:
                    value = row[1]
                    if isinstance(value, float) and value.is_integer():
                        value = int(value)
                    meta[row[0]] = "" if value in (None, "") else str(value)
        for key, value in self.pre.custom_props.items():
            if key in L.META_KEYS and not meta.get(key) and value != "-":
                meta[key] = value
        self.content.meta = meta
        self.content.template_version = meta.get("template_version") or None

    def identity(self) -> None:
        sheet = self.sheet(L.SHEET_IDENTITY)
        if sheet is None:
            return
        wanted = {_hkey(L.ID_CODE): "code", _hkey(L.ID_LABEL): "label", _hkey(L.ID_VALUE): "value"}
        hrow, cols = _find_header(sheet, wanted)
        if hrow is None or "value" not in cols:
            self.content.add(
                I.make(
                    "missing-column",
                    sheet=sheet.name,
                    cell="C4",
                    expected=L.ID_VALUE,
                    row=L.HEADER_ROW,
                )
            )
            return
        by_key = {f.key.casefold(): f for f in self.ref.identity}
        by_label = {_hkey(f.label): f for f in self.ref.identity}
        found: dict[str, int] = {}
        for r in range(hrow + 1, len(sheet.rows)):
            fld = None
            if "code" in cols:
                key = _cell_value(sheet, r, cols["code"])
                if isinstance(key, str):
                    fld = by_key.get(key.strip().casefold())
            if fld is None and "label" in cols:
                fld = by_label.get(_hkey(_cell_value(sheet, r, cols["label"])))
            if fld is None or fld.key in found:
                continue
            found[fld.key] = r
            self.content.identity[fld.key] = self.parse(
                sheet, r, cols["value"], fld.kind, fld.label, liste=fld.liste, column=L.ID_VALUE
            )
        for fld in self.ref.identity:
            if fld.key not in found and fld.required:
                self.content.add(
                    I.make(
                        "missing-field",
                        sheet=sheet.name,
                        cell=f"B{L.FIRST_DATA_ROW}",
                        label=fld.label,
                    )
                )
        if found:
            rows = range(min(found.values()), max(found.values()) + 1)
            self._merged_in(sheet, rows, {cols["value"]})
        self._outside(sheet, max(cols.values()) + 2)

    def members(self) -> None:
        sheet = self.sheet(L.SHEET_MEMBERS)
        if sheet is None:
            return
        wanted = {_hkey(f.label): f.key for f in self.ref.members}
        wanted[_hkey(L.MEMBER_NUMBER)] = "_n"
        hrow, cols = _find_header(sheet, wanted)
        if hrow is None:
            hrow, cols = L.HEADER_ROW - 1, {}
        for fld in self.ref.members:
            if fld.key not in cols and fld.required:
                self.content.add(
                    I.make(
                        "missing-column",
                        sheet=sheet.name,
                        cell=f"A{hrow + 1}",
                        expected=fld.label,
                        row=hrow + 1,
                    )
                )
        member_cols = {k: c for k, c in cols.items() if k != "_n"}
        self.content.member_columns = {k: col_letter(c) for k, c in member_cols.items()}
        if not member_cols:
            return
        filled = 0
        for r in range(hrow + 1, len(sheet.rows)):
            row = sheet.rows[r]
            if all(_is_blank(row[c]) if c < len(row) else True for c in member_cols.values()):
                continue
            filled += 1
            if filled > L.MAX_MEMBER_ROWS:
                self.content.add(
                    I.make(
                        "too-many-members", sheet=sheet.name, cell=addr(r, 0), max=L.MAX_MEMBER_ROWS
                    )
                )
                break
            member = {}
            for fld in self.ref.members:
                if fld.key in member_cols:
                    member[fld.key] = self.parse(
                        sheet,
                        r,
                        member_cols[fld.key],
                        fld.kind,
                        fld.label,
                        liste=fld.liste,
                        column=fld.label,
                    )
            self.content.members.append(member)
            self.content.member_rows.append(r + 1)
        if self.content.member_rows:
            self._merged_in(sheet, range(hrow + 1, len(sheet.rows)), set(member_cols.values()))
        self._outside(sheet, max(cols.values()) + 2)

    def _coded_rows(
        self,
        sheet: RawSheet,
        code_col: int,
        start: int,
        known: dict,
        unknown_code: str,
        duplicate_code: str,
        pattern: re.Pattern,
    ) -> dict[str, int]:
        rows: dict[str, int] = {}
        for r in range(start, len(sheet.rows)):
            raw = _cell_value(sheet, r, code_col)
            if not isinstance(raw, str):
                continue
            code = raw.strip().upper().replace(" ", "")
            if not pattern.match(code):
                continue
            if code not in known:
                row = sheet.rows[r]
                if any(not _is_blank(v) for i, v in enumerate(row) if i != code_col):
                    first, last = next(iter(known)), list(known)[-1]
                    self.content.add(
                        I.make(
                            unknown_code,
                            sheet=sheet.name,
                            cell=addr(r, code_col),
                            value=raw,
                            first=first,
                            last=last,
                        )
                    )
                continue
            if code in rows:
                self.content.add(
                    I.make(
                        duplicate_code,
                        sheet=sheet.name,
                        cell=addr(r, code_col),
                        code=code,
                        other=addr(rows[code], code_col),
                    )
                )
                continue
            rows[code] = r
        return rows

    def indicators(self) -> None:
        sheet = self.sheet(L.SHEET_INDICATORS)
        if sheet is None:
            return
        wanted = {
            _hkey(L.IND_CODE): "code",
            _hkey(L.IND_VALUE): "value",
            _hkey(L.IND_COMMENT): "comment",
            _hkey("Source"): "comment",
            _hkey("Commentaire"): "comment",
        }
        hrow, cols = _find_header(sheet, wanted)
        for needed, label in (("code", L.IND_CODE), ("value", L.IND_VALUE)):
            if needed not in cols:
                self.content.add(
                    I.make(
                        "missing-column",
                        sheet=sheet.name,
                        cell=f"A{L.HEADER_ROW}",
                        expected=label,
                        row=(hrow or L.HEADER_ROW - 1) + 1,
                    )
                )
        if "code" not in cols or "value" not in cols:
            return
        rows = self._coded_rows(
            sheet,
            cols["code"],
            hrow + 1,
            self.ref.indicator_by_code,
            "unknown-indicator",
            "duplicate-indicator",
            _CODE_RE,
        )
        for code, ind in self.ref.indicator_by_code.items():
            if code not in rows:
                self.content.add(
                    I.make(
                        "missing-indicator",
                        sheet=sheet.name,
                        cell=f"A{L.FIRST_DATA_ROW}",
                        code=code,
                        label=ind.label,
                    )
                )
                continue
            r = rows[code]
            self.content.indicators[code] = self.parse(
                sheet, r, cols["value"], ind.kind, f"{code} {ind.label}", column=L.IND_VALUE
            )
            if "comment" in cols:
                text = self._text(
                    sheet,
                    addr(r, cols["comment"]),
                    _cell_value(sheet, r, cols["comment"]),
                    f"{code} {L.IND_COMMENT}",
                    L.IND_COMMENT,
                )
                if text:
                    self.content.indicator_comments[code] = Cell(text, addr(r, cols["comment"]))
        if rows:
            self._merged_in(
                sheet, range(min(rows.values()), max(rows.values()) + 1), {cols["value"]}
            )
        self._outside(sheet, max(cols.values()) + 2)

    def criteria(self) -> None:
        sheet = self.sheet(L.SHEET_CRITERIA)
        if sheet is None:
            return
        wanted = {
            _hkey(L.CRIT_CODE): "code",
            _hkey(L.CRIT_ANSWER): "answer",
            _hkey(L.CRIT_JUSTIFICATION): "why",
            _hkey("Justification"): "why",
        }
        hrow, cols = _find_header(sheet, wanted)
        for needed, label in (("code", L.CRIT_CODE), ("answer", L.CRIT_ANSWER)):
            if needed not in cols:
                self.content.add(
                    I.make(
                        "missing-column",
                        sheet=sheet.name,
                        cell=f"A{L.HEADER_ROW}",
                        expected=label,
                        row=(hrow or L.HEADER_ROW - 1) + 1,
                    )
                )
        if "code" not in cols or "answer" not in cols:
            return
        rows = self._coded_rows(
            sheet,
            cols["code"],
            hrow + 1,
            self.ref.criterion_by_code,
            "unknown-criterion",
            "duplicate-criterion",
            _CODE_RE,
        )
        for code, crit in self.ref.criterion_by_code.items():
            if code not in rows:
                self.content.add(
                    I.make(
                        "missing-criterion",
                        sheet=sheet.name,
                        cell=f"A{L.FIRST_DATA_ROW}",
                        code=code,
                        label=crit.label,
                    )
                )
                continue
            r = rows[code]
            self.content.criteria[code] = self.parse(
                sheet, r, cols["answer"], "answer", f"{code} {L.CRIT_ANSWER}", column=L.CRIT_ANSWER
            )
            if "why" in cols:
                a = addr(r, cols["why"])
                self.content.justifications[code] = Cell(
                    self._text(
                        sheet,
                        a,
                        _cell_value(sheet, r, cols["why"]),
                        f"{code} justification",
                        "Justification",
                    ),
                    a,
                )
        if rows:
            self._merged_in(
                sheet, range(min(rows.values()), max(rows.values()) + 1), {cols["answer"]}
            )
        self._outside(sheet, max(cols.values()) + 2)


def extract(raw: RawWorkbook, ref: Referentiel) -> Content:
    reader = _Reader(raw, ref)
    content = reader.content
    content.issues.extend(raw.issues)
    reader.meta()
    version = content.template_version
    present = [name for name in L.DATA_SHEETS if reader.sheet(name) is not None]
    content.sheet_names.clear()
    content.issues = [i for i in content.issues if i.code != "hidden-sheet"]
    if not present:
        found = (
            ", ".join(
                n
                for n in raw.sheet_names
                if fold(n) not in (fold(L.SHEET_META), fold(L.SHEET_LISTS))
            )
            or "aucune"
        )
        content.add(I.make("unknown-template", found=found[:200]))
        return content
    if version and version != TEMPLATE_VERSION:
        if version in L.TEMPLATE_LAYOUTS:
            content.add(I.make("old-template-version", version=version, current=TEMPLATE_VERSION))
        else:
            content.add(
                I.make("unknown-template-version", version=version[:20], current=TEMPLATE_VERSION)
            )
            return content
    for name in L.DATA_SHEETS:
        if name not in present:
            found = ", ".join(
                n
                for n in raw.sheet_names
                if fold(n) not in (fold(L.SHEET_META), fold(L.SHEET_LISTS))
            )
            content.add(I.make("missing-sheet", sheet=name, expected=name, found=found[:200]))
    reader.identity()
    reader.members()
    reader.indicators()
    reader.criteria()
    prefilled = {"pole_id", "nom", "periode", "departement", "region"}
    typed_identity = any(
        c.value is not None for k, c in content.identity.items() if k not in prefilled
    )
    if (
        not typed_identity
        and not content.members
        and all(c.value is None for c in content.indicators.values())
        and all(c.value is None for c in content.criteria.values())
    ):
        content.empty = True
        content.add(I.make("empty-workbook"))
    return content
