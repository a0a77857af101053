"""Reading each sheet of the template into the pole's data: the identity (one row per field),
the members (one row per organisation) and the coded tables (indicators and criteria: one
pre-printed row per code), plus the metadata that names the template version.

Rows are found by identity key, indicator and criterion code, never by position alone, so
blank, inserted and re-ordered rows keep the right addresses. An older template version is read
through the renamings its `LayoutMap` declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import itemgetter

from ptce_pipeline.catalogue import Referentiel
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.content import Cell, Content, addr, col_letter
from ptce_pipeline.reading.cells import CellReader
from ptce_pipeline.reading.headers import cell_value, find_header, folded, hkey, is_blank
from ptce_pipeline.reading.workbook import RawSheet, RawWorkbook

_CODE_RE = re.compile(r"^[A-Z]{1,6}[-_]?\d{1,4}$")


@dataclass(frozen=True)
class CodedTable:
    """A sheet of pre-printed coded rows, each with one value and one free-text note: the
    indicators and the criteria are read by the same algorithm with these constants."""

    sheet: str
    headers: tuple[tuple[str, str], ...]  # (header text, column: "code" | "value" | "note")
    code_header: str
    value_header: str
    catalogue: str  # the référentiel's mapping code → item
    unknown: str  # issue codes
    duplicate: str
    missing: str
    kind: str | None  # of the value; None: the item's own kind
    value_label: str  # templates over {code} and {label}
    note_label: str
    note_column: str
    values: str  # where the content keeps them
    notes: str
    keep_blank_notes: bool  # a blank note is kept as a cell (criteria) or left out
    reference: bool = False  # may hold the locked « Valeur AAAA » column (never read as data)


INDICATORS = CodedTable(
    sheet=L.SHEET_INDICATORS,
    headers=(
        (L.IND_CODE, "code"),
        (L.IND_VALUE, "value"),
        (L.IND_COMMENT, "note"),
        ("Source", "note"),
        ("Commentaire", "note"),
    ),
    code_header=L.IND_CODE,
    value_header=L.IND_VALUE,
    catalogue="indicator_by_code",
    unknown="unknown-indicator",
    duplicate="duplicate-indicator",
    missing="missing-indicator",
    kind=None,
    value_label="{code} {label}",
    note_label="{code} " + L.IND_COMMENT,
    note_column=L.IND_COMMENT,
    values="indicators",
    notes="indicator_comments",
    keep_blank_notes=False,
    reference=True,
)
CRITERIA = CodedTable(
    sheet=L.SHEET_CRITERIA,
    headers=(
        (L.CRIT_CODE, "code"),
        (L.CRIT_ANSWER, "value"),
        (L.CRIT_JUSTIFICATION, "note"),
        ("Justification", "note"),
    ),
    code_header=L.CRIT_CODE,
    value_header=L.CRIT_ANSWER,
    catalogue="criterion_by_code",
    unknown="unknown-criterion",
    duplicate="duplicate-criterion",
    missing="missing-criterion",
    kind="answer",
    value_label="{code} " + L.CRIT_ANSWER,
    note_label="{code} justification",
    note_column="Justification",
    values="criteria",
    notes="justifications",
    keep_blank_notes=True,
)


def _reference_column(sheet: RawSheet, hrow: int) -> dict[str, int]:
    """The reference column of a pre-filled workbook (« Valeur 2025 »), when the header row
    has one: part of the table (nothing typed there is an issue), never read as data."""
    for c, value in enumerate(sheet.rows[hrow]):
        if L.IND_REFERENCE_RE.match(hkey(value)):
            return {"reference": c}
    return {}


def _last_column(sheet: RawSheet, hrow: int, header: str, found: int) -> int:
    """The rightmost column of the header row headed `header` (at least `found`)."""
    key = hkey(header)
    return max([found, *(c for c, value in enumerate(sheet.rows[hrow]) if hkey(value) == key)])


class SheetReader:
    """Reads the sheets of one workbook, laid out as `layout` says, into `content`."""

    def __init__(self, raw: RawWorkbook, ref: Referentiel, layout: L.LayoutMap):
        self.raw = raw
        self.ref = ref
        self.layout = layout
        self.content = Content(format=raw.format)
        self.pre = raw.preflight
        self.cells = CellReader(raw, ref, self.content)
        self.by_template: dict[str, RawSheet] = {}  # template sheet name → the sheet found
        renamed = {folded(old): new for old, new in layout.sheets.items()}
        for name, sheet in raw.sheets.items():
            key = folded(name)
            current = renamed.get(key)
            for template_name in (*L.DATA_SHEETS, L.SHEET_META):
                if current == template_name or key == folded(template_name):
                    self.by_template.setdefault(template_name, sheet)

    def headers(self, sheet_name: str, wanted: dict[str, str]) -> dict[str, str]:
        """Add the headers an older layout used for the same columns."""
        old = self.layout.headers.get(sheet_name, {})
        current = dict(wanted)
        for old_header, new_header in old.items():
            key = wanted.get(hkey(new_header))
            if key is not None:
                current.setdefault(hkey(old_header), key)
        return current

    def code(self, text: str) -> str:
        """The current code of a code an older layout used."""
        return self.layout.codes.get(text, text)

    def sheet(self, template_name: str) -> RawSheet | None:
        """The workbook's sheet for a template sheet (noted in the content; hidden → issue)."""
        sheet = self.by_template.get(template_name)
        if sheet is not None and template_name not in self.content.sheet_names:
            self.content.sheet_names[template_name] = sheet.name
            if sheet.hidden:
                self.content.add(I.make("hidden-sheet", sheet=sheet.name, expected=template_name))
        return sheet

    def _merged_in(self, sheet: RawSheet, rows: range, cols: set[int]) -> None:
        """Report the merged areas spanning several rows of the data read."""
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
                if value != "" and value is not None and not is_blank(value):
                    self.content.add(
                        I.make("data-outside-table", sheet=sheet.name, cell=addr(r, c), value=value)
                    )
                    return

    def meta(self) -> None:
        """The hidden metadata sheet, completed by the document's custom properties."""
        meta: dict[str, str] = {}
        sheet = self.by_template.get(L.SHEET_META)
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
        """One value per identity field, its row found by key (or, failing that, label)."""
        sheet = self.sheet(L.SHEET_IDENTITY)
        if sheet is None:
            return
        wanted = self.headers(
            L.SHEET_IDENTITY,
            {hkey(L.ID_CODE): "code", hkey(L.ID_LABEL): "label", hkey(L.ID_VALUE): "value"},
        )
        hrow, cols = find_header(sheet, wanted)
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
        by_label = {hkey(f.label): f for f in self.ref.identity}
        found: dict[str, int] = {}
        code_col, label_col = cols.get("code"), cols.get("label")
        for r in range(hrow + 1, len(sheet.rows)):
            fld = None
            if code_col is not None:
                key = cell_value(sheet, r, code_col)
                if isinstance(key, str):
                    fld = by_key.get(key.strip().casefold())
            if fld is None and label_col is not None:
                fld = by_label.get(hkey(cell_value(sheet, r, label_col)))
            if fld is None or fld.key in found:
                continue
            found[fld.key] = r
            self.content.identity[fld.key] = self.cells.parse(
                sheet,
                r,
                cols["value"],
                fld.kind,
                fld.label,
                liste=fld.liste,
                column=L.ID_VALUE,
                spec=fld,
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
        """One member per filled row, its columns found by header."""
        sheet = self.sheet(L.SHEET_MEMBERS)
        if sheet is None:
            return
        wanted = {hkey(f.label): f.key for f in self.ref.members}
        wanted[hkey(L.MEMBER_NUMBER)] = "_n"
        hrow, cols = find_header(sheet, self.headers(L.SHEET_MEMBERS, wanted))
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
            if values == nothing or all(is_blank(v) for v in values):
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
                    fld.key: self.cells.parse(
                        sheet,
                        r,
                        c,
                        fld.kind,
                        fld.label,
                        liste=fld.liste,
                        column=fld.label,
                        spec=fld,
                    )
                    for fld, c in fields
                }
            )
            self.content.member_rows.append(r + 1)
        if self.content.member_rows:
            self._merged_in(sheet, range(hrow + 1, len(rows)), set(positions))
        self._outside(sheet, max(cols.values()) + 2)

    def _coded_rows(
        self, sheet: RawSheet, code_col: int, start: int, known: dict, table: CodedTable
    ) -> dict[str, int]:
        """Code → row index of each known code; unknown codes (on a row with data) and
        duplicates are issues."""
        rows: dict[str, int] = {}
        for r in range(start, len(sheet.rows)):
            raw = cell_value(sheet, r, code_col)
            if not isinstance(raw, str):
                continue
            code = self.code(raw.strip().upper().replace(" ", ""))
            if not _CODE_RE.match(code):
                continue
            if code not in known:
                row = sheet.rows[r]
                if any(not is_blank(v) for i, v in enumerate(row) if i != code_col):
                    first, last = next(iter(known)), list(known)[-1]
                    self.content.add(
                        I.make(
                            table.unknown,
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
                        table.duplicate,
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
        """Report each needed column not found; → whether all were found."""
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

    def coded_table(self, table: CodedTable) -> None:
        """One value (and its note) per code of the catalogue, found by its code."""
        sheet = self.sheet(table.sheet)
        if sheet is None:
            return
        wanted = {hkey(text): column for text, column in table.headers}
        hrow, cols = find_header(sheet, self.headers(table.sheet, wanted))
        needed = (("code", table.code_header), ("value", table.value_header))
        if not self._missing_columns(sheet, hrow, cols, needed):
            return
        if table.reference:
            cols = {**cols, **_reference_column(sheet, hrow)}
            if self.content.meta.get("reference_periode"):
                # pre-filled: the reference column is left of « Valeur »; one renamed
                # « Valeur » must not take its place
                cols["value"] = _last_column(sheet, hrow, table.value_header, cols["value"])
        known = getattr(self.ref, table.catalogue)
        rows = self._coded_rows(sheet, cols["code"], hrow + 1, known, table)
        values: dict[str, Cell] = getattr(self.content, table.values)
        notes: dict[str, Cell] = getattr(self.content, table.notes)
        for code, item in known.items():
            if code not in rows:
                self.content.add(
                    I.make(
                        table.missing,
                        sheet=sheet.name,
                        cell=f"A{hrow + 2}",
                        code=code,
                        label=item.label,
                    )
                )
                continue
            r = rows[code]
            values[code] = self.cells.parse(
                sheet,
                r,
                cols["value"],
                table.kind or item.kind,
                table.value_label.format(code=code, label=item.label),
                column=table.value_header,
                spec=item,
            )
            if "note" in cols:
                a = addr(r, cols["note"])
                raw = cell_value(sheet, r, cols["note"])
                label = table.note_label.format(code=code, label=item.label)
                text = self.cells.text(sheet, a, raw, label, table.note_column)
                if text or table.keep_blank_notes:
                    notes[code] = Cell(text, a, raw)
        if rows:
            self._merged_in(
                sheet, range(min(rows.values()), max(rows.values()) + 1), {cols["value"]}
            )
        self._outside(sheet, max(cols.values()) + 2)
