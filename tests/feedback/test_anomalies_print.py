"""The « Anomalies » sheet of the annotated copy as LibreOffice prints it: every row tall enough
for its wrapped text (no line printed over another), one page wide with the header row on each
page; and the pole's own sheets keep the template's print setup."""

from __future__ import annotations

import io

import openpyxl
import pytest
from helpers import office
from helpers.checking import read_and_validate
from helpers.workbooks import filled, workbook

from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.feedback import annotated_workbook
from ptce_pipeline.feedback.annotate import HEADERS, wrapped_lines

LONG_VALUE = "beaucoup plus que l'an dernier, environ trois cents selon le bilan du pôle"
FIRST_WORDS = {h.split()[0] for h in HEADERS}


def many_long_messages(data):
    """Text in every number cell but two (one long), a value out of bounds, a région of another
    département: enough messages for more than one printed page."""
    for code in data.indicators:
        data.indicators[code] = "beaucoup plus que prévu"
    data.indicators["IND19"] = LONG_VALUE
    data.indicators["IND02"] = 140
    data.identity["region"] = "Bretagne"


@pytest.fixture(scope="module")
def annotated(ref):
    data = filled(ref)
    many_long_messages(data)
    source = workbook(ref, data)
    issues = read_and_validate(ref, source).issues
    assert len(issues) == 28 and all(len(i.message) > 100 for i in issues)
    return source, issues, annotated_workbook(source, "xlsx", issues)


def only_anomalies(data: bytes) -> bytes:
    """The copy with every other sheet hidden, so the PDF holds the « Anomalies » pages only
    (the sheet itself is left as written)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        if ws.title != L.SHEET_ANOMALIES:
            ws.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def normalized(text: str) -> str:
    return " ".join(text.split())


def same_row(words: list[office.Word], anchor: office.Word) -> list[office.Word]:
    middle = (anchor.y0 + anchor.y1) / 2
    return sorted((w for w in words if w.y0 <= middle <= w.y1), key=lambda w: w.x0)


def header_row(page: office.Page) -> list[office.Word]:
    """The words of the header row (the row of the « N° » header), left to right."""
    return same_row(page.words, next(w for w in page.words if w.text == HEADERS[0]))


def body(page: office.Page) -> list[office.Word]:
    """The words under the header row, without the footer (« Anomalies — page 1 / 2 »)."""
    top = max(w.y1 for w in header_row(page))
    below = [w for w in page.words if w.y0 >= top - 1]
    footer = {id(w) for a in below if a.text == L.SHEET_ANOMALIES for w in same_row(below, a)}
    return [w for w in below if id(w) not in footer]


def column_text(pages: list[office.Page], header: str) -> str:
    """The words printed in one column under the header row, page after page, in reading
    order; the column runs from its header's first word to the next column's header."""
    words = []
    for page in pages:
        head = header_row(page)
        x0 = next(w.x0 for w in head if w.text == header.split()[0])
        starts = [w.x0 for w in head if w.text in FIRST_WORDS and w.x0 > x0 + 1]
        x1 = min(starts, default=page.width)
        inside = [w for w in body(page) if x0 - 1 <= w.x0 < x1 - 1]
        words += sorted(inside, key=lambda w: (round(w.y0), w.x0))
    return " ".join(w.text for w in words)


@pytest.mark.libreoffice
def test_libreoffice_prints_every_message_whole_one_page_wide(annotated, tmp_path):
    _source, issues, copy = annotated
    pages = office.pdf_pages(office.to_pdf(only_anomalies(copy), tmp_path / "lo", "annote.xlsx"))
    assert len(pages) > 1  # the header row is repeated on each page
    for n, page in enumerate(pages, start=1):
        head = " ".join(w.text for w in header_row(page))
        assert head == " ".join(HEADERS), f"page {n} does not show every column"
        assert office.overlapping(page.words) == [], f"page {n}: text printed over text"
    assert column_text(pages, "Message") == normalized(" ".join(i.message for i in issues))
    assert column_text(pages, "Valeur lue") == normalized(" ".join(i.value or "" for i in issues))


def test_the_pole_sheets_keep_the_templates_print_setup(annotated):
    source, _issues, copy = annotated
    before, after = (
        openpyxl.load_workbook(io.BytesIO(source)),
        openpyxl.load_workbook(io.BytesIO(copy)),
    )

    def setup(ws):
        ps = ws.page_setup
        return (
            ps.orientation,
            ps.paperSize,
            ps.fitToWidth,
            ps.fitToHeight,
            ws.sheet_properties.pageSetUpPr.fitToPage,
            ws.print_title_rows,
            ws.oddFooter.center.text,
            ws.page_margins.left,
        )

    visible = [ws.title for ws in before.worksheets if ws.sheet_state == "visible"]
    assert visible and all(before[t].oddFooter.center.text for t in visible)
    assert {t: setup(after[t]) for t in visible} == {t: setup(before[t]) for t in visible}
    anomalies = after[L.SHEET_ANOMALIES]
    assert setup(anomalies)[:6] == ("landscape", 9, 1, 0, True, "$4:$4")


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("", 10, 1),
        ("un deux trois", 13, 1),
        ("un deux trois", 12, 2),
        ("un\ndeux", 40, 2),
        ("abcdefghij" * 3, 10, 3),
        ("ab " + "abcdefghij" * 2, 10, 3),
    ],
)
def test_wrapped_lines_counts_lines_as_a_spreadsheet_wraps_them(text, width, lines):
    assert wrapped_lines(text, width) == lines
