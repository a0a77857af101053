"""Re-usable copies of the tables: tableaux.xlsx (one sheet each), CSV (UTF-8 with BOM, `;`)
and Parquet. Text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value):
    """Prefix a quote to a string a spreadsheet would treat as a formula (strings only)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_exports(folder: Path, tables, data, generated: dt.datetime) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    out = folder / "donnees"
    out.mkdir(exist_ok=True)
    for table in tables:
        frame = _safe(table.frame)
        ws = wb.create_sheet(table.title[:31])
        ws.append([table.title + " " + str(data.period)])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(list(frame.columns))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            values = [None if (isinstance(v, float) and pd.isna(v)) else v for v in row]
            ws.append(values)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                elif isinstance(cell.value, float):
                    cell.number_format = "#,##0.##"
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col[1:]) + 2
            ws.column_dimensions[col[0].column_letter].width = min(60, max(10, width))
        ws.freeze_panes = "A3"
        frame.to_csv(
            out / f"{table.key}.csv", sep=";", index=False, encoding="utf-8-sig", decimal=","
        )
        table.frame.to_parquet(out / f"{table.key}.parquet", index=False)
    wb.properties.created = generated.replace(tzinfo=None)
    wb.save(folder / "tableaux.xlsx")
