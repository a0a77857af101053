"""Re-usable copies of the tables: tableaux.xlsx (one sheet each, French headers and number
formats), CSV (UTF-8 with BOM, `;`, decimal comma) and Parquet (typed, masked cells null plus a
"Secret statistique" column).

Text a spreadsheet would run as a formula (starting with =, +, -, @, tab, CR, LF) gets a
leading apostrophe in xlsx and CSV; numbers stay numbers. Parquet keeps the text as declared.
The xlsx is made byte-reproducible: fixed document dates and fixed zip entry times.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from numbers import Real
from pathlib import Path

import pandas as pd

from . import fmt as F
from .tables import TEXT, Col, Table

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SECRET_COLUMN = "Secret statistique"


def neutralise(value):
    """Prefix an apostrophe to a string a spreadsheet would treat as a formula (strings only)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell_value(table: Table, col: Col, i: int):
    """The exported value of a cell: None (missing), "secret", a number or neutralised text."""
    if table.is_secret(col, i):
        return F.SECRET
    value = table.values(col.key)[i]
    if F.is_missing(value):
        return None
    if col.kind in TEXT:
        return neutralise(str(value))
    if col.kind == "date":
        return value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if hasattr(value, "item"):  # numpy scalar → Python number
        value = value.item()
    return value


def _flags(table: Table) -> dict[str, str]:
    """The secret flags used by the exported columns → their Parquet column names."""
    out: dict[str, str] = {}
    for col in table.export_cols:
        if col.secret and col.secret_by in table.frame and col.secret_by not in out:
            out[col.secret_by] = (
                SECRET_COLUMN if col.secret_by == "_secret" else f"{SECRET_COLUMN} ({col.key})"
            )
    return out


def write_csv(path: Path, table: Table) -> None:
    cols = table.export_cols
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(c.key) for c in cols])
    for i in range(len(table.frame)):
        row = []
        for c in cols:
            v = _cell_value(table, c, i)
            if isinstance(v, str):
                row.append(v)
            elif isinstance(v, dt.date):
                row.append(v.isoformat())
            else:
                row.append(F.csv_number(v))
        writer.writerow(row)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def write_parquet(path: Path, table: Table) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame(index=range(len(table.frame)))
    for col in table.export_cols:
        values = table.frame[col.key].reset_index(drop=True)
        if col.secret and col.secret_by in table.frame:
            values = values.where(~table.frame[col.secret_by].reset_index(drop=True).astype(bool))
        if col.kind in TEXT:
            values = values.map(lambda v: None if F.is_missing(v) else str(v)).astype(object)
        frame[col.key] = values
    for flag, name in _flags(table).items():
        frame[name] = table.frame[flag].reset_index(drop=True).astype(bool)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(arrow, path, compression="zstd")


def _sheet(wb, table: Table, period: int, mark: str = "") -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(table.sheet[:31])
    cols = table.export_cols
    widths = _widths(table, cols)
    for n, w in enumerate(widths):
        ws.column_dimensions[_letter(n)].width = w
    ws.freeze_panes = "B5" if table.stub else "A5"
    print_setup(
        ws, table.title, mark or f"Suivi national des PTCE — tableaux {period}", sum(widths)
    )

    def text(value, **style):
        cell = WriteOnlyCell(ws, value=value)
        for k, v in style.items():
            setattr(cell, k, v)
        return cell

    ws.append([text(table.title, font=Font(bold=True, size=13))])
    ws.append([text(table.subtitle, font=Font(italic=True, color="3A3A3A"))])
    ws.append([text(mark, font=Font(bold=True, color="CE0500"))] if mark else [])
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="000091")
    wrap = Alignment(wrap_text=True, vertical="bottom")
    ws.row_dimensions[4].height = 15 * max(_lines(c.key, w - 1) for c, w in zip(cols, widths, strict=True))  # fmt: skip
    ws.append([text(c.key, font=head_font, fill=head_fill, alignment=wrap) for c in cols])
    secret_font = Font(italic=True, color="666666")
    bold = Font(bold=True)
    totals = table.values("_total")
    evol_kinds = table.values("_evol_kind") or []
    for i in range(len(table.frame)):
        row = []
        total = bool(totals[i]) if totals is not None else False
        for c in cols:
            v = _cell_value(table, c, i)
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # never a formula
                if v == F.SECRET and table.is_secret(c, i):
                    cell.font = secret_font
                    cell.alignment = Alignment(horizontal="right")
            elif isinstance(v, dt.date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(v, int | float):
                if c.kind == "evol":
                    cell.number_format = F.XLSX_SIGNED.get(evol_kinds[i], "#,##0.0")
                else:
                    cell.number_format = F.xlsx_format(table.row_kind(c, i), v)
            if total:
                cell.font = bold
            row.append(cell)
        ws.append(row)
    ws.append([])
    for note in table.notes:
        ws.append([text(note, font=Font(size=9, color="3A3A3A"))])
    if table.masking:
        ws.append(
            [
                text(
                    f"« {F.SECRET} » : agrégat portant sur moins de {F.SECRET_MIN} pôles, masqué.",
                    font=Font(size=9, color="3A3A3A"),
                )
            ]
        )


def _widths(table: Table, cols: list[Col]) -> list[int]:
    """Column widths (characters) that fit the values as displayed, the headers wrapping."""
    out = []
    for c in cols:
        values = [v for v in table.values(c.key) or [] if not F.is_missing(v)]
        if c.kind in TEXT:
            longest = min(60, max((len(str(v)) for v in values), default=0))
        elif c.kind == "date":
            longest = 10
        else:  # the widest display of the column's extremes, sign and unit included
            numbers = [v for v in values if isinstance(v, Real) and not isinstance(v, bool)]
            extremes = [min(numbers), max(numbers)] if numbers else []
            kinds = set(table.values("_kind") or []) if c.kind == "row" else {c.kind}
            longest = max(
                (len(F.number(v, k if k in F.XLSX_FORMATS else "num")) + 1
                 for v in extremes for k in kinds),
                default=0,
            )  # fmt: skip
        header = max(len(w) for w in c.key.split()) if c.key.strip() else 0
        out.append(max(8, max(header, min(len(c.key), 14), longest) + 2))
    return out


NOTE_WIDTH = 90  # characters of the Notes sheet's text column


def _lines(text: str, width: int) -> int:
    """How many lines a wrapped text takes in a column `width` characters wide (roughly)."""
    return max(1, -(-len(text) * 11 // (width * 10)))


PORTRAIT_WIDTH = 90  # columns wider than this (in characters) print in landscape


def print_setup(ws, title: str, mark: str, width: float, title_rows: str = "1:4") -> None:
    """A4, landscape when wide, one page wide (as many pages down as needed), the title and
    header rows repeated on every page, the sheet's title in the page header and who it is for
    and the page number in the footer. Set before the first row (the sheet streams)."""
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.orientation = "landscape" if width > PORTRAIT_WIDTH else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.print_title_rows = title_rows
    ws.oddHeader.center.text = _header_text(title)
    ws.oddHeader.center.size = 9
    ws.oddFooter.left.text = _header_text(mark)
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P sur &N"
    ws.oddFooter.right.size = 8


def _header_text(text: str) -> str:
    """Text for a page header or footer, where « & » introduces a code."""
    return text.replace("&", "&&")[:120]


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n + 1)


def write_xlsx(
    path: Path, tables: list[Table], notes: list[str], period: int, generated, mark: str = ""
) -> None:
    """The workbook; `mark` (who it is for) is written on every sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Notes")
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = NOTE_WIDTH
    print_setup(ws, f"Suivi national des PTCE — tableaux {period}", mark, 32 + NOTE_WIDTH, "1:1")
    rows = 0

    def put(*values, font=None) -> None:
        """Append a row; a long text in column B wraps, its row as high as its lines."""
        nonlocal rows
        rows += 1
        cells = []
        for value in values:
            cell = WriteOnlyCell(ws, value=value)
            if font is not None:
                cell.font = font
            if isinstance(value, str) and len(value) > NOTE_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                ws.row_dimensions[rows].height = 15 * _lines(value, NOTE_WIDTH)
            cells.append(cell)
        ws.append(cells)

    put(f"Suivi national des PTCE — tableaux {period}", font=Font(bold=True, size=14))
    put(*([mark] if mark else []))
    put("Feuille", "Contenu", font=Font(bold=True))
    for t in tables:
        if in_workbook(t):
            put(t.sheet[:31], neutralise(t.title))
    put()
    put()
    put(
        "",
        "Les données détaillées des fiches pôles (indicateurs, critères) sont dans les "
        "fichiers CSV et Parquet du dossier donnees/.",
    )
    for t in tables:
        if t.in_xlsx and not in_workbook(t):
            put(
                "",
                f"« {neutralise(t.title)} » ({len(t.frame)} lignes) : trop long pour ce "
                f"classeur, voir donnees/{t.key}.csv et donnees/{t.key}.parquet.",
            )
    put("Notes et sources", font=Font(bold=True))
    for note in notes:
        put("", note)
    for t in tables:
        if in_workbook(t):
            _sheet(wb, t, period, mark)
    moment = generated.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    wb.properties.created = moment
    wb.properties.modified = moment
    wb.properties.creator = "ptce-pipeline"
    wb.properties.title = f"Suivi national des PTCE — tableaux {period}"
    wb.properties.language = "fr-FR"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue(), moment))


def _fixed_zip(data: bytes, moment: dt.datetime) -> bytes:
    """The same archive with every entry dated `moment` (openpyxl stamps the wall clock), and the
    document's modification date fixed (openpyxl sets it to now on save)."""
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)  # fmt: skip
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _fix_core_dates(content, iso)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def _fix_core_dates(content: bytes, iso: str) -> bytes:
    import re

    text = content.decode("utf-8")
    text = re.sub(
        r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)",
        lambda m: m.group(1) + iso + m.group(2),
        text,
    )
    return text.encode("utf-8")


# A table longer than this (a list with one row per pole, at national scale) is published as
# CSV and Parquet only: a spreadsheet of hundreds of thousands of cells helps nobody.
XLSX_MAX_ROWS = 5000


def in_workbook(table: Table) -> bool:
    return table.in_xlsx and len(table.frame) <= XLSX_MAX_ROWS


def write_data_files(folder: Path, tables: list[Table]) -> None:
    """CSV and Parquet of each table, in `folder/donnees/`."""
    out = folder / "donnees"
    out.mkdir(exist_ok=True)
    for table in tables:
        write_csv(out / f"{table.key}.csv", table)
        write_parquet(out / f"{table.key}.parquet", table)


def write_exports(
    folder: Path, tables: list[Table], notes: list[str], period: int, generated
) -> None:
    write_data_files(folder, tables)
    write_xlsx(folder / "tableaux.xlsx", tables, notes, period, generated)
