"""What the published files show a reader: one rounding rule across HTML, xlsx and CSV (checked
through LibreOffice, which displays the xlsx the way a reader sees it), a number format on every
number of every workbook, and a print setup that keeps tableaux.xlsx to a few A4 pages."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_publication import NOW, build_campaign, html_rows

from ptce_pipeline.publication import fmt as F
from ptce_pipeline.publication.exports import write_csv, write_xlsx
from ptce_pipeline.publication.render import render_html
from ptce_pipeline.publication.tables import Col, Table

# (value, kind, what a reader sees): exact halves, and decimals whose binary neighbour is below
# the half (1.45 is 1.4499999999999999556 in binary: formatting the float would give 1,4)
HALVES = [
    (0.0625 * 100, "share", "6,3\u00a0%"),
    (0.5625 * 100, "share", "56,3\u00a0%"),
    (2.5, "score", "3"),
    (-2.5, "score", "\u22123"),
    (0.25, "num", "0,3"),
    (1.45, "num", "1,5"),
    (0.125 * 100, "percent", "12,5\u00a0%"),
    (1234.5, "euros", "1\u202f235\u00a0€"),
]


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def office_convert(source: Path, target: str) -> Path:
    """Open a file in LibreOffice (headless, private profile) and save it as `target`
    ("pdf", or a csv filter string)."""
    exe = soffice()
    if exe is None:
        pytest.skip("LibreOffice (soffice) absent")
    with tempfile.TemporaryDirectory(prefix="ptce-lo-") as tmp:
        subprocess.run(
            [exe, f"-env:UserInstallation={Path(tmp).as_uri()}", "--headless", "--norestore",
             "--convert-to", target, "--outdir", str(source.parent), str(source)],
            check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": tmp},
        )  # fmt: skip
    suffix = "." + target.split(":")[0]
    made = sorted(source.parent.glob(f"{source.stem}*{suffix}"))  # one sheet: <stem>-<sheet>.csv
    assert len(made) == 1, made
    return made[0]


def _halves_table(fast: bool) -> Table:
    frame = pd.DataFrame(
        {
            "Cas": [f"cas {n}" for n in range(len(HALVES))],
            "Valeur": [v for v, _, _ in HALVES],
            "_kind": [k for _, k, _ in HALVES],
        }
    )
    return Table(
        key="arrondis",
        page="capitalisation",
        title="Arrondis",
        subtitle="Demi-valeurs",
        frame=frame,
        cols=[Col("Cas"), Col("Valeur", "row")],
        sheet="Arrondis",
        stub="Cas",
        masking=False,
        fast=fast,
    )


@pytest.mark.libreoffice
@pytest.mark.parametrize("fast", [False, True], ids=["great-tables", "plain"])
def test_one_rounding_rule_in_html_xlsx_and_csv(tmp_path, fast):
    table = _halves_table(fast)
    shown = [text for _, _, text in HALVES]
    page = tmp_path / "page.html"
    page.write_text(render_html(table), encoding="utf-8")
    assert [r[1] for r in html_rows(page, "arrondis")[1:]] == shown

    book = tmp_path / "tableaux.xlsx"
    write_xlsx(book, [table], [], 2025, NOW)
    ws = openpyxl.load_workbook(book)["Arrondis"]
    cells = [row[1] for row in ws.iter_rows(min_row=5, max_row=4 + len(HALVES))]
    assert [c.value for c in cells] == [v for v, _, _ in HALVES]  # the full value is kept
    assert all(c.number_format != "General" for c in cells)
    # what LibreOffice displays (sheet 2: the one after Notes), in its own locale's separators
    out = office_convert(book, "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,true,false,false,2")  # fmt: skip
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8")), delimiter=";"))
    displayed = [row[1] for row in lines[4 : 4 + len(HALVES)]]

    def plain(text: str) -> str:
        for ch in ("\u202f", "\u00a0", " ", ",", "."):
            text = text.replace(ch, "")
        return text.replace("\u2212", "-")

    assert [plain(d) for d in displayed] == [plain(s) for s in shown], displayed

    data = tmp_path / "arrondis.csv"
    write_csv(data, table)
    rows = list(csv.reader(io.StringIO(data.read_bytes()[3:].decode("utf-8")), delimiter=";"))
    assert [float(r[1].replace(",", ".")) for r in rows[1:]] == [v for v, _, _ in HALVES]


def test_rounded_works_from_the_decimal_text():
    assert [str(F.rounded(v, 1)) for v in (6.25, 56.25, 1.45, 0.05, -0.05, 2.675)] == [
        "6.3", "56.3", "1.5", "0.1", "-0.1", "2.7",
    ]  # fmt: skip
    assert F.signed(0.05, "points") == "+0,1\u00a0pt" and F.signed(0.04, "points") == "0,0\u00a0pt"
    assert F.csv_number(1 / 3) == "0,3333333333333333"  # full precision, decimal comma


@pytest.fixture(scope="module")
def books(tmp_path_factory, ref) -> list[Path]:
    settings = build_campaign(tmp_path_factory.mktemp("exports") / "home", ref)
    return sorted(settings.publications_dir.rglob("*.xlsx"))


def test_every_number_of_every_published_workbook_has_a_format(books):
    assert len(books) == 4  # 2024 and 2025, interne and public
    general = {}
    for path in books:
        for ws in openpyxl.load_workbook(path):
            for row in ws.iter_rows():
                for c in row:
                    number = isinstance(c.value, int | float) and not isinstance(c.value, bool)
                    if number and c.number_format == "General":
                        general.setdefault((path.parent.name, ws.title), []).append(c.coordinate)
    assert general == {}
    ws = openpyxl.load_workbook(next(p for p in books if "interne/2025" in p.as_posix()))[
        "Capitalisation"
    ]
    heads = [c.value for c in ws[4]]
    evolution = [r[heads.index("Évolution de la médiane")] for r in ws.iter_rows(min_row=5)]
    formats = {c.number_format for c in evolution if isinstance(c.value, float)}
    assert formats and formats <= set(F.XLSX_SIGNED.values())


def test_every_sheet_prints_one_page_wide_with_its_titles(books):
    for path in books:
        for ws in openpyxl.load_workbook(path):
            where = (path.as_posix(), ws.title)
            assert ws.sheet_properties.pageSetUpPr.fitToPage, where
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, where
            assert ws.page_setup.paperSize == 9, where  # A4
            assert ws.print_title_rows in ("$1:$4", "$1:$1"), where
            assert ws.oddFooter.right.text == "Page &P sur &N", where
            assert ws.oddHeader.center.text, where
            wide = sum(d.width or 0 for d in ws.column_dimensions.values()) > 90
            assert ws.page_setup.orientation == ("landscape" if wide else "portrait"), where


@pytest.mark.libreoffice
def test_tableaux_print_on_few_pages_in_libreoffice(books, tmp_path):
    """Before the print setup, LibreOffice printed the 17 sheets of this workbook on 54 pages
    (columns spilling onto pages of their own, titles apart from their table)."""
    path = next(p for p in books if "interne/2025" in p.as_posix())
    copy = tmp_path / "tableaux.xlsx"
    shutil.copy(path, copy)
    sheets = len(openpyxl.load_workbook(copy).sheetnames)
    pdf = office_convert(copy, "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert sheets <= pages <= sheets + 4, pages
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "###" not in text  # no column too narrow for its numbers
