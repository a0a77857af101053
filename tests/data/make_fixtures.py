"""Make the fixtures under tests/data/ that need LibreOffice (CI has none, so they are committed).

    .venv/bin/python tests/data/make_fixtures.py      # needs `soffice` on the PATH

- libreoffice_filled.xlsx, libreoffice_filled.ods: the template filled by code
  (`source_filled`), opened and saved by LibreOffice (`--convert-to xlsx` / `ods`), with the
  things LibreOffice changes: very hidden sheet made hidden, custom properties moved (ODS:
  meta.xml), shared strings, its own styles, a percent-formatted cell, a date cell, a boolean,
  a formula whose value LibreOffice computes and caches, trailing repeated rows (ODS).
- libreoffice_errors.xlsx, libreoffice_errors.ods: formulas whose cached result is an error
  (#DIV/0!, #N/A, #NAME?), as LibreOffice saves them.
- libreoffice_merged.ods: three indicator values merged into one cell, as an .ods.
- legacy.xls: a real Excel 97-2003 (BIFF8) workbook written by LibreOffice.

The tests rebuild the sources with the same functions to know what to expect, and convert
them again with LibreOffice when it is installed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

# Values typed into the filled source, beyond the demo data (cell → what LibreOffice keeps)
FORMULA_INDICATOR = "IND22"  # typed as =200+10: no cached value until LibreOffice computes it
FORMULA_TEXT = "=200+10"
FORMULA_VALUE = 210.0
PERCENT_INDICATOR = "IND02"  # 0.43 in a cell formatted as a percentage: the pole sees 43 %
DATE_FILLED = dt.date(2025, 2, 14)
MERGED = "F7:F9"  # IND01 to IND03
ERRORS = {"IND14": ("=1/0", "#DIV/0!"), "IND05": ("=NA()", "#N/A"), "IND23": ("=INCONNUE()", None)}


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, target: str, *, source_suffix: str = ".xlsx") -> bytes:
    """Open `data` in LibreOffice (headless, private profile) and save it as `target`."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("soffice introuvable")
    with tempfile.TemporaryDirectory(prefix="ptce-lo-") as tmp:
        tmpdir = Path(tmp)
        src = tmpdir / f"source{source_suffix}"
        src.write_bytes(data)
        out = tmpdir / "out"
        out.mkdir()
        profile = (tmpdir / "profile").as_uri()
        subprocess.run(
            [
                exe,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                target,
                "--outdir",
                str(out),
                str(src),
            ],
            check=True,
            capture_output=True,
            timeout=180,
            env={**os.environ, "HOME": str(tmpdir)},
        )
        return (out / f"source.{target.split(':')[0]}").read_bytes()


def _value_cell(wb, sheet: str, code: str):
    from ptce_pipeline.catalogue import layout as L

    ws = wb[sheet]
    col = L.indicator_headers().index(L.IND_VALUE) + 1
    for row in range(L.FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=row, column=1).value == code:
            return ws.cell(row=row, column=col)
    raise KeyError(code)


def source_filled(ref):
    """(bytes, FilledData) of the filled template LibreOffice opens and saves."""
    from helpers.workbooks import filled, workbook

    from ptce_pipeline.catalogue import layout as L

    data = filled(ref)
    data.identity["date_remplissage"] = dt.datetime.combine(DATE_FILLED, dt.time())
    data.members[0]["siret"] = int(data.members[0]["siret"])  # SIRET typed as a number
    data.members[1]["etp"] = "2,5"  # decimal comma typed as text
    data.indicators["IND25"] = "185 000 €"
    first_criterion = next(iter(data.criteria))
    data.criteria[first_criterion] = (True, data.criteria[first_criterion][1] or "Oui.")

    def edit(wb):
        pct = _value_cell(wb, L.SHEET_INDICATORS, PERCENT_INDICATOR)
        pct.value = 0.43
        pct.number_format = "0%"
        _value_cell(wb, L.SHEET_INDICATORS, FORMULA_INDICATOR).value = FORMULA_TEXT

    return workbook(ref, data, edit=edit), data


def source_errors(ref) -> bytes:
    from helpers.workbooks import filled, workbook

    from ptce_pipeline.catalogue import layout as L

    def edit(wb):
        for code, (formula, _shown) in ERRORS.items():
            _value_cell(wb, L.SHEET_INDICATORS, code).value = formula

    return workbook(ref, filled(ref), edit=edit)


def source_merged(ref) -> bytes:
    """Three indicator values merged into one cell (only the first keeps its value)."""
    from helpers.workbooks import filled, workbook

    from ptce_pipeline.catalogue import layout as L

    return workbook(ref, filled(ref), edit=lambda wb: wb[L.SHEET_INDICATORS].merge_cells(MERGED))


def source_tiny() -> bytes:
    from openpyxl import Workbook

    from ptce_pipeline.template import workbook_bytes

    wb = Workbook()
    wb.active.title = "Feuil1"
    wb.active["A1"] = "Classeur au format Excel 97-2003"
    wb.active["A2"] = 42
    return workbook_bytes(wb)


def main() -> int:
    from ptce_pipeline.catalogue.referentiel import load_referentiel

    if soffice() is None:
        print("soffice introuvable : installez LibreOffice pour refaire ces fichiers.")
        return 2
    ref = load_referentiel()
    filled_bytes, _data = source_filled(ref)
    errors_bytes = source_errors(ref)
    outputs = {
        "libreoffice_filled.xlsx": convert(filled_bytes, "xlsx"),
        "libreoffice_filled.ods": convert(filled_bytes, "ods"),
        "libreoffice_errors.xlsx": convert(errors_bytes, "xlsx"),
        "libreoffice_errors.ods": convert(errors_bytes, "ods"),
        "libreoffice_merged.ods": convert(source_merged(ref), "ods"),
        "legacy.xls": convert(source_tiny(), "xls:MS Excel 97"),
    }
    for name, data in outputs.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} octets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
