"""The annotated copy of a pole's workbook: cells in error filled red, warnings orange, each
with a comment; a first sheet « Anomalies » with a link to every cell. No text from a pole can
become a formula.

What each marked cell looked like before (its fill and comment) is kept in a very hidden sheet,
so annotating an annotated copy again first puts every cell back as the pole left it: no stale
mark survives, and no fill or comment of the pole's is lost."""

from __future__ import annotations

import contextlib
import io
import re
import warnings

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.xlsx_writer import workbook_bytes

RED = "FFC7CE"
ORANGE = "FFE0B2"
AUTHOR = "ptce-pipeline"
MARKS_SHEET = "_ptce_annotations"
MARKS_HEADER = ("feuille", "cellule", "motif", "couleur", "fond", "commentaire", "auteur")
_RGB = re.compile(r"^[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$")
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?([1-9]\d{0,6})$")
HEADERS = ("N°", "Gravité", "Feuille", "Cellule", "Colonne", "Code", "Message", "Valeur lue")
WIDTHS = (5, 14, 12, 9, 18, max(map(len, I.CATALOGUE)) + 2, 64, 24)
WRAPPED = frozenset({3, 5, 7, 8})  # the columns of free text, wrapped in their width
FIRST_ROW = 5  # the first issue's row, under the header row
FONT_SIZE = 11  # the workbook's default font (Calibri; LibreOffice may show a wider one)
# Row heights: spreadsheets do not grow the rows openpyxl writes, so each row is given the
# height its wrapped text needs. Characters per unit of column width, kept low so the text
# still fits in the widest font a spreadsheet may put in Calibri's place (LibreOffice without
# Carlito shows DejaVu Sans, about 1.1 characters per unit).
CHARS_PER_WIDTH = 1.0
POINTS_PER_LINE = FONT_SIZE * 1.3


def annotated_workbook(
    data: bytes, file_format: str | None, issues: list[I.Issue], *, raw_sheets=None
) -> bytes | None:
    """The pole's workbook with its problems marked, or None when it cannot be opened.

    Cells in error are filled red, warnings orange, each with a comment carrying the
    messages; a first sheet « Anomalies » lists every issue with a link to its cell. An .ods
    file (or an .xlsx openpyxl cannot open) is rebuilt from its values as a new .xlsx.
    """
    wb = _open(data, file_format, raw_sheets)
    if wb is None:
        return None
    _unmark(wb)
    _mark(wb, issues)
    _anomalies_sheet(wb, issues)
    return workbook_bytes(wb)


def _open(data: bytes, file_format: str | None, raw_sheets):
    from openpyxl import Workbook, load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if file_format in ("xlsx", "xlsm"):
            try:
                return load_workbook(
                    io.BytesIO(data), keep_vba=False, keep_links=False, rich_text=False
                )
            except MemoryError:
                raise  # a limit hit, not a workbook openpyxl cannot open
            except Exception:
                pass
        if raw_sheets is None and file_format in ("ods", "xlsx", "xlsm"):
            raw_sheets = _grids(data)
        if not raw_sheets:
            return None
        wb = Workbook()
        wb.remove(wb.active)
        for name, rows in raw_sheets.items():
            ws = wb.create_sheet(name[:31])
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if value in ("", None):
                        continue
                    cell = ws.cell(row=r, column=c)
                    if isinstance(value, str):
                        set_text(cell, value)
                    else:
                        cell.value = value
        return wb


def _grids(data: bytes) -> dict[str, list[list]] | None:
    """Every sheet's values (python-calamine); the file has passed the pre-flight already."""
    try:
        import python_calamine as pc

        book = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return {
            name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in book.sheet_names
        }
    except MemoryError:
        raise  # a limit hit (`feedback.copies` says so), not an unreadable workbook
    except Exception:
        return None


def _unmark(wb) -> None:
    """Remove an earlier annotation: its sheets, and its fills and comments (restored)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    annotated = L.SHEET_ANOMALIES in wb.sheetnames
    if annotated:
        wb.remove(wb[L.SHEET_ANOMALIES])
    if MARKS_SHEET not in wb.sheetnames:
        if annotated:  # marks without their record (copied elsewhere): clear what is ours
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        if _is_ours(cell.fill):
                            cell.fill = PatternFill(fill_type=None)
                        if cell.comment is not None and cell.comment.author == AUTHOR:
                            cell.comment = None
        return
    marks = wb[MARKS_SHEET]
    for row in marks.iter_rows(min_row=2, values_only=True):
        sheet, ref, pattern, color, bg, comment, author = (list(row) + [None] * 7)[:7]
        if not (isinstance(sheet, str) and sheet in wb.sheetnames and isinstance(ref, str)):
            continue
        if sheet in (MARKS_SHEET, L.SHEET_ANOMALIES) or not _A1.match(ref):
            continue
        cell = wb[sheet][ref]
        with contextlib.suppress(Exception):  # the record is the pole's file: trust nothing
            if _is_ours(cell.fill):  # a fill the pole changed since is theirs: kept
                if pattern in (None, "") or not (isinstance(color, str) and _RGB.match(color)):
                    cell.fill = PatternFill(fill_type=None)
                else:
                    background = bg if isinstance(bg, str) and _RGB.match(bg) else None
                    cell.fill = PatternFill(str(pattern), fgColor=color, bgColor=background)
            if cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment = (
                    Comment(str(comment), str(author or "")) if comment not in (None, "") else None
                )
    wb.remove(marks)


def _is_ours(fill) -> bool:
    if fill is None or fill.fill_type != "solid":
        return False
    rgb = fill.fgColor.rgb if fill.fgColor is not None else None
    return isinstance(rgb, str) and rgb[-6:].upper() in (RED, ORANGE)


def _mark(wb, issues: list[I.Issue]) -> None:
    from openpyxl.cell.cell import MergedCell
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    red = PatternFill("solid", fgColor=RED)
    orange = PatternFill("solid", fgColor=ORANGE)
    by_cell: dict[tuple[str, str], list[I.Issue]] = {}
    for issue in issues:
        if issue.sheet in wb.sheetnames and issue.cell and _A1.match(issue.cell):
            by_cell.setdefault((issue.sheet, issue.cell), []).append(issue)
    marks = wb.create_sheet(MARKS_SHEET)
    marks.append(MARKS_HEADER)
    for (sheet, ref), found in by_cell.items():
        cell = wb[sheet][ref]
        if isinstance(cell, MergedCell):
            continue  # inside a merged range: listed in « Anomalies » only
        before = None if _is_ours(cell.fill) else cell.fill
        rgb = before.fgColor.rgb if before is not None and before.fgColor is not None else None
        bg = before.bgColor.rgb if before is not None and before.bgColor is not None else None
        old = cell.comment
        row = [
            sheet,
            ref,
            before.fill_type if before is not None else None,
            rgb if isinstance(rgb, str) else None,
            bg if isinstance(bg, str) else None,
            old.text if old is not None else None,
            old.author if old is not None else None,
        ]
        marks.append([None] * len(row))
        for c, value in enumerate(row, start=1):
            set_text(marks.cell(row=marks.max_row, column=c), value)
        worst = any(i.severity == I.ERREUR for i in found)
        cell.fill = red if worst else orange
        text = "\n\n".join(
            f"{'Erreur' if i.severity == I.ERREUR else 'Avertissement'} : {i.message}"
            for i in found
        )
        if old is not None and old.text:
            text += f"\n\n(Commentaire d'origine : {old.text})"
        cell.comment = Comment(text[:4000], AUTHOR, width=380, height=180)
    marks.sheet_state = "veryHidden"


def _anomalies_sheet(wb, issues: list[I.Issue]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    red = PatternFill("solid", fgColor=RED)
    orange = PatternFill("solid", fgColor=ORANGE)
    ws = wb.create_sheet(L.SHEET_ANOMALIES, 0)
    ws.sheet_properties.tabColor = "C00000"
    errors, warns = I.counts(issues)
    set_text(ws["A1"], "Anomalies relevées dans ce classeur")
    ws["A1"].font = Font(bold=True, size=14, color="C00000")
    intro = ws["A2"]
    set_text(
        intro,
        f"{errors} erreur(s), {warns} avertissement(s). Les cellules en rouge sont à corriger "
        "(le classeur est refusé tant qu'il en reste), celles en orange à vérifier. Cliquez sur "
        "une cellule de la colonne D pour vous y rendre, corrigez ce classeur puis déposez-le de "
        "nouveau dans le dossier de votre pôle.",
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADERS))
    intro.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 14 * 1.3 + 4
    fit_height(ws, 2, [(intro.value, sum(WIDTHS))])
    for c, text in enumerate(HEADERS, start=1):
        cell = ws.cell(row=FIRST_ROW - 1, column=c)
        set_text(cell, text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3864")
    for n, issue in enumerate(issues, start=1):
        r = FIRST_ROW - 1 + n
        ws.cell(row=r, column=1, value=n)
        set_text(ws.cell(row=r, column=2), issue.severity)
        ws.cell(row=r, column=2).fill = red if issue.severity == I.ERREUR else orange
        set_text(ws.cell(row=r, column=3), issue.sheet or "—")
        link = ws.cell(row=r, column=4)
        set_text(link, issue.cell or "—")
        if issue.sheet in wb.sheetnames and issue.cell and _A1.match(issue.cell):
            quoted = "'" + issue.sheet.replace("'", "''") + "'"
            link.hyperlink = Hyperlink(
                ref=link.coordinate, location=f"{quoted}!{issue.cell}", display=issue.cell
            )
            link.font = Font(color="0563C1", underline="single")
        set_text(ws.cell(row=r, column=5), issue.column or "")
        set_text(ws.cell(row=r, column=6), issue.code)
        set_text(ws.cell(row=r, column=7), issue.message)
        set_text(ws.cell(row=r, column=8), issue.value or "")
        for c in range(1, len(HEADERS) + 1):
            ws.cell(row=r, column=c).alignment = Alignment(wrap_text=c in WRAPPED, vertical="top")
        fit_height(ws, r, [(ws.cell(row=r, column=c).value, WIDTHS[c - 1]) for c in WRAPPED])
    for letter, width in zip("ABCDEFGH", WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{FIRST_ROW}"
    _print_setup(ws)
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == L.SHEET_ANOMALIES


def _print_setup(ws) -> None:
    """Landscape A4, one page wide, the header row on every page, numbered pages."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{FIRST_ROW - 1}:{FIRST_ROW - 1}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_options.gridLines = False
    ws.oddHeader.left.text = "&F"
    ws.oddFooter.center.text = "&A — page &P / &N"


def wrapped_lines(text: str, chars_per_line: int) -> int:
    """How many lines `text` takes when wrapped at spaces in `chars_per_line` characters
    (a word longer than a line is cut, as spreadsheets do)."""
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split():
            need = len(word) if used == 0 else used + 1 + len(word)
            if need <= chars_per_line:
                used = need
                continue
            if used:
                lines += 1
            lines += (len(word) - 1) // chars_per_line
            used = (len(word) - 1) % chars_per_line + 1
    return max(lines, 1)


def fit_height(ws, row: int, texts: list[tuple[str | None, float]]) -> None:
    """Give `row` the height its wrapped texts need, each in its column width."""
    lines = max(
        (wrapped_lines(str(t), max(1, int(w * CHARS_PER_WIDTH))) for t, w in texts if t),
        default=1,
    )
    ws.row_dimensions[row].height = round(lines * POINTS_PER_LINE + 4, 1)


def set_text(cell, text) -> None:
    """Write a string that can never become a formula."""
    cell.value = None if text is None else str(text)
    if text is not None:
        cell.data_type = "s"
