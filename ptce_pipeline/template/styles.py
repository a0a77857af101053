"""How the template looks: fonts, fills and borders, and the furniture every sheet shares
(title lines, header row, row heights for wrapped text, print setup, protection).
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter

TITLE_FONT = Font(bold=True, size=14, color="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
GROUP_FONT = Font(bold=True, color="1F3864")
GROUP_FILL = PatternFill("solid", fgColor="D9E2F3")
SUBGROUP_FILL = PatternFill("solid", fgColor="EEF2F9")
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
THIN = Side(style="thin", color="B4B4B4")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
REFERENCE_FILL = PatternFill("solid", fgColor="EDEDED")  # the locked « Valeur AAAA » column
MUTED_FONT = Font(color="7F7F7F")
PLAIN_FILL = PatternFill("solid", fgColor="FFFFFF")


def fit_row(ws, row: int, *texts: tuple[str | None, float], minimum: float = 15.0) -> None:
    """Row height for wrapped text: spreadsheets do not grow rows written by openpyxl."""
    lines = 1
    for text, width in texts:
        if text:
            per_line = max(8, int(width * 1.15))
            lines = max(
                lines, sum(-(-max(1, len(part)) // per_line) for part in str(text).split("\n"))
            )
    ws.row_dimensions[row].height = max(minimum, 15.0 * lines + 2)


def header_row(ws, row: int, headers: list[str], widths: list[int]) -> None:
    for col, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = BOX
        ws.column_dimensions[get_column_letter(col)].width = width
    fit_row(ws, row, *zip(headers, widths, strict=True))
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    ws.print_title_rows = f"{row}:{row}"


def sheet_title(ws, title: str, subtitle: str) -> None:
    ws["A1"] = title
    ws["A1"].font = TITLE_FONT
    ws["A2"] = subtitle
    ws["A2"].alignment = Alignment(wrap_text=False)
    ws["A2"].font = Font(italic=True, color="595959")


def print_setup(ws, landscape: bool = True) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "&A — page &P / &N"


def protect(ws) -> None:
    ws.protection.sheet = True  # no password: protection against slips, not a lock
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.insertRows = False
    ws.protection.deleteRows = True
    ws.protection.sort = True
    ws.protection.autoFilter = True
