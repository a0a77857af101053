"""From raw sheet grids to the pole's data, every value carrying its cell address.

Matching is by header text (case, accents, spaces, a parenthesis and a trailing "*" ignored)
and by identity key, indicator and criterion code, never by position alone, so blank, inserted
and re-ordered rows and re-ordered columns keep the right addresses. Values are cleaned and
coerced here (French numbers, years, dates, codes); a cell that cannot be coerced becomes an
issue and the rest of the file is still read. Checks against the catalogue (bounds, lists,
required…) are pandera's job, in `validation`.

An older template version is read through the mapping its layout declares
(`layout.TEMPLATE_LAYOUTS`); a version the reader does not know stops the reading.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from operator import itemgetter
from typing import Any

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue.referentiel import Referentiel, fold
from ptce_pipeline.content import values as V
from ptce_pipeline.content.model import Cell, Content, addr, col_letter
from ptce_pipeline.reading.workbook import RawSheet, RawWorkbook

_CODE_RE = re.compile(r"^[A-Z]{1,6}[-_]?\d{1,4}$")
MAX_TEXT = 2000
NUMBER_KINDS = frozenset({"count", "euros", "fte", "percent", "m2", "scale"})


@lru_cache(maxsize=4096)
def _hkey_text(text: str) -> str:
    key = _fold(text)
    key = re.sub(r"\(.*?\)", "", key)
    key = key.replace("*", "").replace(":", "")
    return " ".join(key.split())


def _hkey(value: Any) -> str:
    """Header key: case, accents, spaces, "(…)", "*" and ":" ignored. Only text is a header."""
    if not isinstance(value, str) or not value:
        return ""
    return _hkey_text(value)


_REGION_LOOKUPS: dict[int, dict[str, str]] = {}


def _region_lookup(ref: Referentiel) -> dict[str, str]:
    """The geography's région lookup, built once per référentiel (it folds every name)."""
    lookup = _REGION_LOOKUPS.get(id(ref.geography))
    if lookup is None:
        lookup = _REGION_LOOKUPS[id(ref.geography)] = ref.geography.region_lookup()
    return lookup


@lru_cache(maxsize=8192)
def _fold(text: str) -> str:
    return fold(text)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _find_header(sheet: RawSheet, wanted: dict[str, str]) -> tuple[int | None, dict[str, int]]:
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


def _cell_value(sheet: RawSheet, r: int, c: int) -> Any:
    rows = sheet.rows
    if r < len(rows):
        row = rows[r]
        if c < len(row):
            value = row[c]
            return None if value == "" else value
    return None


class _Reader:
    def __init__(self, raw: RawWorkbook, ref: Referentiel, layout: L.LayoutMap):
        self.raw = raw
        self.ref = ref
        self.layout = layout
        self.content = Content(format=raw.format)
        self.pre = raw.preflight
        self.region_lookup = _region_lookup(ref)
        self._sheets: dict[str, RawSheet] = {}
        renamed = {_fold(old): new for old, new in layout.sheets.items()}
        for name, sheet in raw.sheets.items():
            key = _fold(name)
            current = renamed.get(key)
            for template_name in (*L.DATA_SHEETS, L.SHEET_META):
                if current == template_name or key == _fold(template_name):
                    self._sheets.setdefault(template_name, sheet)

    def headers(self, sheet_name: str, wanted: dict[str, str]) -> dict[str, str]:
        """Add the headers an older layout used for the same columns."""
        old = self.layout.headers.get(sheet_name, {})
        current = dict(wanted)
        for old_header, new_header in old.items():
            key = wanted.get(_hkey(new_header))
            if key is not None:
                current.setdefault(_hkey(old_header), key)
        return current

    def code(self, text: str) -> str:
        return self.layout.codes.get(text, text)

    # -- shared cell handling -------------------------------------------------------------------
    def _formula_problem(self, sheet: RawSheet, r: int, c: int, raw: Any) -> bool:
        if raw is not None and not isinstance(raw, str):
            return False
        scan = self.pre.sheets.get(sheet.name)
        if raw is None and scan is not None:
            a = addr(r, c)
            if a in scan.error_cells:
                self.content.add(
                    I.make("formula-error", sheet=sheet.name, cell=a, value=scan.error_cells[a])
                )
                return True
            if a in scan.formulas_without_value:
                self.content.add(I.make("formula-without-value", sheet=sheet.name, cell=a))
                return True
        if V.is_error_value(raw):
            self.content.add(I.make("formula-error", sheet=sheet.name, cell=addr(r, c), value=raw))
            return True
        return False

    def _text(
        self, sheet: RawSheet, a: str, raw: Any, label: str, column: str | None = None
    ) -> str | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, bool):
            raw = "Oui" if raw else "Non"
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
        if kind in NUMBER_KINDS:
            pct = (
                kind == "percent"
                and isinstance(raw, float | int)
                and not isinstance(raw, bool)
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
            value = self._region(sheet, a, raw, label, column)
        elif kind == "code":
            text = self._text(sheet, a, raw, label, column)
            if text is not None and not V.is_null_like(text):
                lookup = self.ref.lists[liste].lookup if liste else {}
                value = lookup.get(_fold(text), text)
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

    def _region(self, sheet: RawSheet, a: str, raw: Any, label: str, column: str | None):
        text = self._text(sheet, a, raw, label, column)
        if text is None or V.is_null_like(text):
            return None
        key = _fold(text)
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
        return code or text

    # -- sheets ---------------------------------------------------------------------------------
    def sheet(self, template_name: str) -> RawSheet | None:
        sheet = self._sheets.get(template_name)
        if sheet is not None and template_name not in self.content.sheet_names:
            self.content.sheet_names[template_name] = sheet.name
            if sheet.hidden:
                self.content.add(I.make("hidden-sheet", sheet=sheet.name, expected=template_name))
        return sheet

    def _merged_in(self, sheet: RawSheet, rows: range, cols: set[int]) -> None:
        for (r0, c0), (r1, c1) in sheet.merged:
            if r1 > r0 and any(c0 <= c <= c1 for c in cols) and (r0 in rows or r1 in rows):
                rng = f"{addr(r0, c0)}:{addr(r1, c1)}"
                self.content.add(
                    I.make("merged-cells", sheet=sheet.name, cell=addr(r0, c0), range=rng)
                )

    def _outside(self, sheet: RawSheet, width: int) -> None:
        """Warn once about a value typed to the right of the table (it is ignored)."""
        rows = sheet.rows
        if not rows or len(rows[0]) <= width:  # calamine's rows all have the sheet's width
            return
        for r, row in enumerate(rows):
            for c in range(width, len(row)):
                value = row[c]
                if value != "" and value is not None and not _is_blank(value):
                    self.content.add(
                        I.make("data-outside-table", sheet=sheet.name, cell=addr(r, c), value=value)
                    )
                    return

    def meta(self) -> None:
        meta: dict[str, str] = {}
        sheet = self._sheets.get(L.SHEET_META)
        if sheet is not None:
            for row in sheet.rows[:20]:
                if len(row) >= 2 and isinstance(row[0], str) and row[0].strip() in L.META_KEYS:
                    value = row[1]
                    if isinstance(value, float) and value.is_integer():
                        value = int(value)
                    meta[row[0].strip()] = "" if value in (None, "") else str(value).strip()
        for key, value in self.pre.custom_props.items():
            if key in L.META_KEYS and not meta.get(key) and value.strip() not in ("", "-"):
                meta[key] = value.strip()
        self.content.meta = meta
        self.content.template_version = meta.get("template_version") or None

    def identity(self) -> None:
        sheet = self.sheet(L.SHEET_IDENTITY)
        if sheet is None:
            return
        wanted = self.headers(
            L.SHEET_IDENTITY,
            {_hkey(L.ID_CODE): "code", _hkey(L.ID_LABEL): "label", _hkey(L.ID_VALUE): "value"},
        )
        hrow, cols = _find_header(sheet, wanted)
        if hrow is None or "value" not in cols:
            row = (hrow if hrow is not None else L.HEADER_ROW - 1) + 1
            self.content.add(
                I.make(
                    "missing-column",
                    sheet=sheet.name,
                    cell=f"C{row}",
                    expected=L.ID_VALUE,
                    row=row,
                )
            )
            return
        by_key = {f.key.casefold(): f for f in self.ref.identity}
        for old, new in self.layout.codes.items():
            if new.casefold() in by_key:
                by_key.setdefault(old.casefold(), by_key[new.casefold()])
        by_label = {_hkey(f.label): f for f in self.ref.identity}
        found: dict[str, int] = {}
        code_col, label_col = cols.get("code"), cols.get("label")
        for r in range(hrow + 1, len(sheet.rows)):
            fld = None
            if code_col is not None:
                key = _cell_value(sheet, r, code_col)
                if isinstance(key, str):
                    fld = by_key.get(key.strip().casefold())
            if fld is None and label_col is not None:
                fld = by_label.get(_hkey(_cell_value(sheet, r, label_col)))
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
                        cell=f"B{hrow + 2}",
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
        hrow, cols = _find_header(sheet, self.headers(L.SHEET_MEMBERS, wanted))
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
        fields = [(f, member_cols[f.key]) for f in self.ref.members if f.key in member_cols]
        positions = sorted(member_cols.values())
        width = max(positions) + 1
        pick = itemgetter(*positions) if len(positions) > 1 else lambda row: (row[positions[0]],)
        nothing = ("",) * len(positions)
        filled = 0
        rows = sheet.rows
        for r in range(hrow + 1, len(rows)):
            row = rows[r]
            if len(row) < width:
                row = row + [""] * (width - len(row))
            values = pick(row)
            # most rows of the template are empty: one C-level comparison first
            if values == nothing or all(_is_blank(v) for v in values):
                continue
            filled += 1
            if filled > L.MAX_MEMBER_ROWS:
                self.content.add(
                    I.make(
                        "too-many-members", sheet=sheet.name, cell=addr(r, 0), max=L.MAX_MEMBER_ROWS
                    )
                )
                break
            self.content.members.append(
                {
                    fld.key: self.parse(
                        sheet, r, c, fld.kind, fld.label, liste=fld.liste, column=fld.label
                    )
                    for fld, c in fields
                }
            )
            self.content.member_rows.append(r + 1)
        if self.content.member_rows:
            self._merged_in(sheet, range(hrow + 1, len(rows)), set(positions))
        self._outside(sheet, max(cols.values()) + 2)

    def _coded_rows(
        self,
        sheet: RawSheet,
        code_col: int,
        start: int,
        known: dict,
        unknown_code: str,
        duplicate_code: str,
    ) -> dict[str, int]:
        rows: dict[str, int] = {}
        for r in range(start, len(sheet.rows)):
            raw = _cell_value(sheet, r, code_col)
            if not isinstance(raw, str):
                continue
            code = self.code(raw.strip().upper().replace(" ", ""))
            if not _CODE_RE.match(code):
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

    def _missing_columns(self, sheet: RawSheet, hrow, cols, needed) -> bool:
        ok = True
        for key, label in needed:
            if key not in cols:
                ok = False
                row = (hrow if hrow is not None else L.HEADER_ROW - 1) + 1
                self.content.add(
                    I.make(
                        "missing-column", sheet=sheet.name, cell=f"A{row}", expected=label, row=row
                    )
                )
        return ok

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
        hrow, cols = _find_header(sheet, self.headers(L.SHEET_INDICATORS, wanted))
        needed = (("code", L.IND_CODE), ("value", L.IND_VALUE))
        if not self._missing_columns(sheet, hrow, cols, needed):
            return
        rows = self._coded_rows(
            sheet,
            cols["code"],
            hrow + 1,
            self.ref.indicator_by_code,
            "unknown-indicator",
            "duplicate-indicator",
        )
        for code, ind in self.ref.indicator_by_code.items():
            if code not in rows:
                self.content.add(
                    I.make(
                        "missing-indicator",
                        sheet=sheet.name,
                        cell=f"A{hrow + 2}",
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
                a = addr(r, cols["comment"])
                raw = _cell_value(sheet, r, cols["comment"])
                text = self._text(sheet, a, raw, f"{code} {L.IND_COMMENT}", L.IND_COMMENT)
                if text:
                    self.content.indicator_comments[code] = Cell(text, a, raw)
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
        hrow, cols = _find_header(sheet, self.headers(L.SHEET_CRITERIA, wanted))
        needed = (("code", L.CRIT_CODE), ("answer", L.CRIT_ANSWER))
        if not self._missing_columns(sheet, hrow, cols, needed):
            return
        rows = self._coded_rows(
            sheet,
            cols["code"],
            hrow + 1,
            self.ref.criterion_by_code,
            "unknown-criterion",
            "duplicate-criterion",
        )
        for code, crit in self.ref.criterion_by_code.items():
            if code not in rows:
                self.content.add(
                    I.make(
                        "missing-criterion",
                        sheet=sheet.name,
                        cell=f"A{hrow + 2}",
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
                raw = _cell_value(sheet, r, cols["why"])
                text = self._text(sheet, a, raw, f"{code} justification", "Justification")
                self.content.justifications[code] = Cell(text, a, raw)
        if rows:
            self._merged_in(
                sheet, range(min(rows.values()), max(rows.values()) + 1), {cols["answer"]}
            )
        self._outside(sheet, max(cols.values()) + 2)


def _found_sheets(raw: RawWorkbook) -> str:
    hidden = {fold(L.SHEET_META), fold(L.SHEET_LISTS)}
    return ", ".join(n for n in raw.sheet_names if fold(n) not in hidden)[:200] or "aucune"


def extract(raw: RawWorkbook, ref: Referentiel) -> Content:
    probe = _Reader(raw, ref, L.LayoutMap())
    probe.meta()
    version = probe.content.template_version
    layout = L.layout_for(version)
    reader = _Reader(raw, ref, layout or L.LayoutMap())
    content = reader.content
    content.meta, content.template_version = probe.content.meta, version
    content.issues.extend(raw.issues)
    present = [name for name in L.DATA_SHEETS if name in reader._sheets]
    if not present:
        content.add(I.make("unknown-template", found=_found_sheets(raw)))
        return content
    if layout is None:
        content.add(
            I.make(
                "unknown-template-version", version=(version or "")[:20], current=TEMPLATE_VERSION
            )
        )
        return content
    if version and version != TEMPLATE_VERSION:
        content.add(I.make("old-template-version", version=version, current=TEMPLATE_VERSION))
    for name in L.DATA_SHEETS:
        if name not in present:
            content.add(
                I.make("missing-sheet", sheet=name, expected=name, found=_found_sheets(raw))
            )
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
