"""Turn received bytes into raw sheet grids, safely: format from magic bytes, pre-flight bounds,
then python-calamine (fast, reads .xlsx, .xlsm and .ods). Runs inside worker processes.

Nothing here raises on bad input: problems come back as `Issue` values.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

from . import issues as I
from . import layout as L
from .config import Limits
from .preflight import Preflight, PreflightRefusal, run_preflight
from .referentiel import fold
from .sniff import sniff


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


WANTED = {fold(name): name for name in (*L.DATA_SHEETS, L.SHEET_META)}


def refusal(code: str, detail: str = "", **params) -> list[I.Issue]:
    return [I.make(code, detail=detail, **params)]


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
            if exc.code == "too-slow":
                return None, refusal("too-slow", seconds=int(limits.parse_timeout_s))
            return None, refusal(exc.code, exc.detail)
    else:
        pre = Preflight(format=sniffed.format)
    if sniffed.format == "xlsm" or pre.has_macros:
        issues.append(I.make("macros-ignored"))
    if pre.has_external_links or any(s.external_formula_cells for s in pre.sheets.values()):
        issues.append(I.make("external-links-ignored"))
    try:
        import python_calamine as pc

        book = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:
        return None, refusal(_calamine_code(exc), _detail(exc))
    sheets: dict[str, RawSheet] = {}
    try:
        metas = {m.name: m for m in book.sheets_metadata}
        names = list(book.sheet_names)
        for name in names:
            key = fold(name)
            if key not in WANTED:
                continue
            meta = metas.get(name)
            hidden = meta is not None and str(meta.visible).rsplit(".", 1)[-1].lower() != "visible"
            scan = pre.sheets.get(name)
            if scan is not None and scan.state != "visible" and key != fold(L.SHEET_META):
                hidden = True
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            if len(rows) > limits.max_rows:
                return None, refusal(
                    "too-large", f"feuille « {name[:40]} » : plus de {limits.max_rows} lignes"
                )
            merged = list(sheet.merged_cell_ranges or []) if pre.format != "ods" else []
            sheets[name] = RawSheet(name=name, rows=rows, hidden=hidden, merged=merged)
    except MemoryError:
        return None, refusal("too-large", "mémoire insuffisante pour lire le classeur")
    except Exception as exc:
        return None, refusal(_calamine_code(exc), _detail(exc))
    finally:
        with contextlib.suppress(Exception):
            book.close()
    return RawWorkbook(
        format=sniffed.format, sheets=sheets, sheet_names=names, preflight=pre, issues=issues
    ), issues


def _detail(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _calamine_code(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "PasswordError":
        return "encrypted-file"
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return "encrypted-file"
    return "corrupt-file"
