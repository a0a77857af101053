"""Reading one cell of the template: formula problems first, then the raw value cleaned and
coerced to its field's kind (French numbers, years, dates, codes, answers, régions). A value that
cannot be coerced becomes an issue on the content and the rest of the file is still read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ptce_pipeline.catalogue import Referentiel, advice
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.content import Cell, Content, addr
from ptce_pipeline.content import values as V
from ptce_pipeline.reading.headers import cell_value, folded
from ptce_pipeline.reading.workbook import RawSheet, RawWorkbook

MAX_TEXT = 2000
NUMBER_KINDS = frozenset({"count", "euros", "fte", "percent", "m2", "scale"})

_REGION_LOOKUPS: dict[int, dict[str, str]] = {}


def _region_lookup(ref: Referentiel) -> dict[str, str]:
    """The geography's région lookup, built once per référentiel (it folds every name)."""
    lookup = _REGION_LOOKUPS.get(id(ref.geography))
    if lookup is None:
        lookup = _REGION_LOOKUPS[id(ref.geography)] = ref.geography.region_lookup()
    return lookup


class CellReader:
    """Parses the cells of one workbook; the issues go to `content`."""

    def __init__(self, raw: RawWorkbook, ref: Referentiel, content: Content):
        self.raw = raw
        self.ref = ref
        self.content = content
        self.pre = raw.preflight
        self.region_lookup = _region_lookup(ref)

    def _formula_problem(self, sheet: RawSheet, r: int, c: int, raw: Any) -> bool:
        """Report an error cell or a formula without a cached value; → whether there was one."""
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

    def text(
        self, sheet: RawSheet, a: str, raw: Any, label: str, column: str | None = None
    ) -> str | None:
        """The cell as clean text (invisible characters removed, reported); too long → None."""
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
        spec: Any = None,
    ) -> Cell:
        """The cell at (r, c) coerced to `kind`; what cannot be coerced is reported as an issue,
        its advice worded for the rule of `spec` (the field or indicator the cell holds)."""
        raw = cell_value(sheet, r, c)
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
            text = self.text(sheet, a, raw, label, column)
            if text is not None and not V.is_null_like(text):
                lookup = self.ref.lists[liste].lookup if liste else {}
                value = lookup.get(folded(text), text)
        elif kind == "answer":
            value, problem = V.parse_answer(raw)
            if problem:
                value, problem = self.text(sheet, a, raw, label, column), None
        else:  # text, email
            value = self.text(sheet, a, raw, label, column)
            if kind == "email" and value is not None and V.is_null_like(value):
                value = None
        if problem is not None:
            code, params = problem
            rule = advice.rule_of(self.ref, spec) or advice.CellRule(False, kind)
            variant, extra = advice.advise(code, rule, {"label": label, **params})
            self.content.add(
                I.make(
                    code,
                    sheet=sheet.name,
                    cell=a,
                    column=column,
                    value=raw,
                    variant=variant,
                    **extra,
                )
            )
        return Cell(value, a, raw)

    def _region(self, sheet: RawSheet, a: str, raw: Any, label: str, column: str | None):
        text = self.text(sheet, a, raw, label, column)
        if text is None or V.is_null_like(text):
            return None
        key = folded(text)
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
