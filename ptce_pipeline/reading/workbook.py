"""Turn received bytes into raw sheet grids, safely: format from magic bytes, pre-flight bounds,
then python-calamine (fast, reads .xlsx, .xlsm and .ods). Runs inside worker processes.

Nothing here raises on bad input: problems come back as `Issue` values.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.catalogue import fold
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.config import Limits
from ptce_pipeline.content import split_ref
from ptce_pipeline.reading.preflight import Preflight, PreflightRefusal, run_preflight
from ptce_pipeline.reading.sniff import sniff


@dataclass
class RawSheet:
    name: str
    rows: list[list[Any]]
    hidden: bool = False
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


@dataclass
class RawWorkbook:
    format: str
    sheets: dict[str, RawSheet]
    sheet_names: list[str]
    preflight: Preflight
    issues: list[I.Issue] = field(default_factory=list)

    @property
    def epoch1904(self) -> bool:
        return self.preflight.epoch1904


def wanted_sheets() -> set[str]:
    """Folded names of the sheets the reader loads: the data sheets and the metadata sheet,
    under their current names and the names older layouts gave them."""
    names = {fold(n) for n in (*L.DATA_SHEETS, L.SHEET_META)}
    for version in L.TEMPLATE_LAYOUTS:
        names.update(fold(old) for old in L.layout_for(version).sheets)
    return names


def refusal(code: str, detail: str = "", **params) -> list[I.Issue]:
    return [I.make(code, detail=detail, **params)]


def _fatal(exc: BaseException) -> bool:
    """Exceptions that must go through: interruption, exit, our own worker's memory limit."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit)


def read_raw(data: bytes, limits: Limits) -> tuple[RawWorkbook | None, list[I.Issue]]:
    """→ (workbook or None, issues). A None workbook means the file is refused."""
    sniffed = sniff(data)
    if sniffed.format == "refused":
        return None, refusal(sniffed.code or "not-a-workbook", sniffed.detail)
    issues: list[I.Issue] = []
    if limits.preflight:
        try:
            pre = run_preflight(data, sniffed.format, limits)
        except PreflightRefusal as exc:
            return None, [I.make(exc.code, sheet=exc.sheet, cell=exc.cell, detail=exc.detail)]
    else:
        pre = Preflight(format=sniffed.format)
    if sniffed.format == "xlsm" or pre.has_macros:
        issues.append(I.make("macros-ignored"))
    if pre.has_external_links or any(s.external_formula_cells for s in pre.sheets.values()):
        issues.append(I.make("external-links-ignored"))
    try:
        import python_calamine as pc

        book = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except MemoryError:
        return None, refusal("too-large", "mémoire insuffisante pour ouvrir le classeur")
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        if _fatal(exc):
            raise
        return None, refusal(_calamine_code(exc), _detail(exc))
    sheets: dict[str, RawSheet] = {}
    wanted = wanted_sheets()
    meta_key = fold(L.SHEET_META)
    try:
        metas = {m.name: m for m in book.sheets_metadata}
        names = list(book.sheet_names)
        for name in names:
            key = fold(name)
            if key not in wanted:
                continue
            meta = metas.get(name)
            hidden = meta is not None and str(meta.visible).rsplit(".", 1)[-1].lower() != "visible"
            scan = pre.sheets.get(name)
            if scan is not None and scan.state not in ("visible", ""):
                hidden = True
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            if len(rows) > limits.max_rows:
                return None, [
                    I.make(
                        "too-large",
                        sheet=name,
                        detail=f"feuille « {name[:40]} » : plus de {limits.max_rows} lignes",
                    )
                ]
            if pre.format == "ods":  # calamine gives merged areas for xlsx only
                merged = [_area(a) for a in scan.merged] if scan is not None else []
            else:
                merged = list(sheet.merged_cell_ranges or [])
            sheets[name] = RawSheet(
                name=name, rows=rows, hidden=hidden and key != meta_key, merged=merged
            )
    except MemoryError:
        return None, refusal("too-large", "mémoire insuffisante pour lire le classeur")
    except BaseException as exc:
        if _fatal(exc):
            raise
        return None, refusal(_calamine_code(exc), _detail(exc))
    finally:
        with contextlib.suppress(Exception):
            book.close()
    return RawWorkbook(
        format=sniffed.format, sheets=sheets, sheet_names=names, preflight=pre, issues=issues
    ), issues


def _area(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """ "B3:C5" → ((2, 1), (4, 2)), 0-based like calamine's merged ranges."""
    first, _, last = text.partition(":")
    (r0, c0), (r1, c1) = split_ref(first), split_ref(last or first)
    return (r0 - 1, c0 - 1), (r1 - 1, c1 - 1)


def _detail(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _calamine_code(exc: BaseException) -> str:
    if type(exc).__name__ == "PasswordError":
        return "encrypted-file"
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return "encrypted-file"
    return "corrupt-file"
