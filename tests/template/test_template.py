"""The pole workbook template: generated from the catalogue, easy to fill right, cheap to read."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers.workbooks import filled, workbook

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue.registry import Pole
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one
from ptce_pipeline.template import build_template, workbook_bytes

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def blank(ref) -> bytes:
    return workbook_bytes(build_template(ref))


@pytest.fixture(scope="module")
def book(blank):
    return openpyxl.load_workbook(io.BytesIO(blank))


def validations(ws) -> dict[str, object]:
    """cell or range → its data validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng] = dv
    return out


def test_sheets_and_their_states(book):
    assert book.sheetnames == [
        L.SHEET_README,
        L.SHEET_IDENTITY,
        L.SHEET_MEMBERS,
        L.SHEET_INDICATORS,
        L.SHEET_CRITERIA,
        L.SHEET_LISTS,
        L.SHEET_META,
    ]
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    assert states[L.SHEET_LISTS] == "hidden" and states[L.SHEET_META] == "veryHidden"
    assert all(states[n] == "visible" for n in (L.SHEET_README, *L.DATA_SHEETS))


def test_headers_are_where_the_layout_says(book, ref):
    def header(name):
        return [c.value for c in book[name][L.HEADER_ROW] if c.value is not None]

    assert header(L.SHEET_IDENTITY) == L.identity_headers()
    assert header(L.SHEET_INDICATORS) == L.indicator_headers()
    assert header(L.SHEET_CRITERIA) == L.criteria_headers()
    members = header(L.SHEET_MEMBERS)
    assert members[0] == L.MEMBER_NUMBER
    assert [h.rstrip(" *") for h in members[1:]] == [f.label for f in ref.members]
    required = {f.label for f in ref.members if f.required}
    assert {h[:-2] for h in members if h.endswith(" *")} == required


def test_every_coded_cell_has_a_dropdown_from_the_lists_sheet(book, ref):
    ws = book[L.SHEET_IDENTITY]
    dvs = validations(ws)
    lists = book[L.SHEET_LISTS]
    for row, fld in enumerate(ref.identity, start=L.FIRST_DATA_ROW):
        if fld.kind != "code":
            continue
        dv = dvs[f"C{row}"]
        assert dv.type == "list" and dv.formula1 == f"=liste_{fld.liste}", fld.key
        target = book.defined_names[f"liste_{fld.liste}"].attr_text
        letter, first, last = re.fullmatch(
            r"'?Listes'?!\$([A-Z]+)\$(\d+):\$\1\$(\d+)", target
        ).groups()
        labels = [lists[f"{letter}{r}"].value for r in range(int(first), int(last) + 1)]
        assert labels == ref.lists[fld.liste].labels, fld.key
    criteria = validations(book[L.SHEET_CRITERIA])
    answer_dv = next(iter(criteria.values()))
    assert answer_dv.formula1 == "=liste_reponses_criteres"
    assert len(str(answer_dv.sqref).split()) == len(ref.criteria)


def test_numeric_validation_carries_the_catalogue_bounds_and_help(book, ref):
    ws = book[L.SHEET_INDICATORS]
    dvs = validations(ws)
    rows = {ws.cell(r, 1).value: r for r in range(L.FIRST_DATA_ROW, ws.max_row + 1)}
    for ind in ref.indicators:
        dv = dvs[f"F{rows[ind.code]}"]
        assert dv.type == ("whole" if ind.integer else "decimal"), ind.code
        assert float(dv.formula1) == (ind.min or 0)
        assert float(dv.formula2) == ind.max, ind.code
        assert dv.showInputMessage and dv.prompt == ind.help[:250]
        assert dv.errorStyle == "warning"  # the pipeline decides, the pole is warned


def test_protection_without_password_and_unlocked_inputs(book, ref):
    for name in (*L.DATA_SHEETS, L.SHEET_README):
        ws = book[name]
        assert ws.protection.sheet and not ws.protection.password, name
    ids = book[L.SHEET_IDENTITY]
    assert ids["C5"].protection.locked is False and ids["B5"].protection.locked is True
    ind = book[L.SHEET_INDICATORS]
    assert ind["F7"].protection.locked is False and ind["G7"].protection.locked is False
    assert ind["D7"].protection.locked is True
    crit = book[L.SHEET_CRITERIA]
    assert crit["D6"].protection.locked is False and crit["C6"].protection.locked is True
    members = book[L.SHEET_MEMBERS]
    for col, _fld in enumerate(ref.members, start=2):
        letter = openpyxl.utils.get_column_letter(col)
        dim = members.column_dimensions[letter]
        assert dim.protection.locked is False and dim.fill.fgColor.rgb.endswith("FFF9E5")


def test_frozen_headers_widths_and_print_setup(book):
    for name in L.DATA_SHEETS:
        ws = book[name]
        assert ws.freeze_panes == f"A{L.FIRST_DATA_ROW}", name
        assert ws.print_title_rows == f"${L.HEADER_ROW}:${L.HEADER_ROW}"
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert all(ws.column_dimensions[c].width >= 6 for c in "ABCD")
    assert book[L.SHEET_INDICATORS].page_setup.orientation == "landscape"


def test_member_area_is_numbered_and_styled_by_column(book, blank, ref):
    ws = book[L.SHEET_MEMBERS]
    numbers = [
        ws.cell(r, 1).value for r in range(L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + L.MEMBER_ROWS)
    ]
    assert numbers == list(range(1, L.MEMBER_ROWS + 1))
    assert L.MEMBER_ROWS >= 200
    sheet = zipfile.ZipFile(io.BytesIO(blank)).read("xl/worksheets/sheet3.xml")
    # one cell per prepared row (its number), not one styled empty cell per input column
    assert sheet.count(b"<c ") < L.MEMBER_ROWS + 40
    assert ws["B2"].fill.fgColor.rgb.endswith("FFFFFF")  # the title rows do not look like inputs
    dvs = validations(ws)
    last = L.FIRST_DATA_ROW + L.MEMBER_ROWS - 1
    assert f"D{L.FIRST_DATA_ROW}:D{last}" in dvs  # category dropdown on every prepared row


def test_readme_says_what_to_fill_and_the_versions(ref):
    wb = build_template(ref, deadline=dt.date(2026, 3, 31))
    text = "\n".join(str(c.value) for c in wb[L.SHEET_README]["A"] if c.value)
    for words in (
        "Ce qu'il faut remplir",
        "Comment les valeurs sont contrôlées",
        "Après le dépôt",
        "31/03/2026",
        ref.contact,
        f"version {TEMPLATE_VERSION}",
        ref.version,
    ):
        assert words in text, words


def test_metadata_in_the_hidden_sheet_and_document_properties(ref):
    pole = Pole("PTCE-007", "Pôle fictif Terres du Nord", "59", 2012, None)
    wb = openpyxl.load_workbook(
        io.BytesIO(workbook_bytes(build_template(ref, pole=pole, period=2025)))
    )
    meta = {r[0].value: r[1].value for r in wb[L.SHEET_META].iter_rows(max_col=2)}
    assert meta == {
        "template_version": TEMPLATE_VERSION,
        "referentiel_version": ref.version,
        "referentiel_sha256": ref.sha256,
        "pole_id": "PTCE-007",
        "periode": "2025",
    }
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["ptce_pole_id"] == "PTCE-007" and props["ptce_periode"] == "2025"
    ids = wb[L.SHEET_IDENTITY]
    assert (ids["C5"].value, ids["C6"].value, ids["C7"].value) == (
        "PTCE-007",
        "Pôle fictif Terres du Nord",
        2025,
    )
    assert ids["C13"].value == "Hauts-de-France"  # the région of the pole's département


def test_template_is_deterministic_to_the_byte(ref):
    assert workbook(ref, filled(ref)) == workbook(ref, filled(ref))
    assert workbook_bytes(build_template(ref)) == workbook_bytes(build_template(ref))


def test_blank_template_reads_as_not_filled(ref, blank):
    content = read_one(blank, ref, Limits()).content
    assert [i.code for i in content.issues] == ["empty-workbook"]


def test_libreoffice_keeps_the_column_styles():
    """Rows a pole types in LibreOffice get the input look and stay unlocked."""
    wb = openpyxl.load_workbook(DATA / "libreoffice_filled.xlsx")
    ws = wb[L.SHEET_MEMBERS]
    assert ws.column_dimensions["B"].protection.locked is False
    assert ws["B40"].protection.locked is False


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("https://exemple.invalid/x","Cliquez")',
        "=1+1",
        "=cmd|' /C calc'!A0",
        "==",
    ],
)
def test_registry_text_starting_with_equals_is_written_as_text(tmp_path, ref, name):
    """`ptce template --pole` types the registry's name as text, never as a live formula, and
    the reader reads back the very same text."""
    import subprocess
    import sys

    from helpers import tally
    from helpers.workbooks import make_home

    settings = make_home(tmp_path / "home", poles=[Pole("PTCE-001", name, "59", 2012, None)])
    out = tmp_path / "modele.xlsx"
    res = subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", "template", "--home",
         str(settings.home), "--pole", "PTCE-001", "--period", "2025", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    with zipfile.ZipFile(out) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
        formulas = [n for n in sheets if b"<f>" in zf.read(n) or b"<f " in zf.read(n)]
    ids = openpyxl.load_workbook(out)[L.SHEET_IDENTITY]
    content = read_one(out.read_bytes(), ref, Limits()).content
    held = not formulas and ids["C6"].value == name and ids["C6"].data_type == "s"
    tally.case("configuration", f"nom du registre en formule {name[:12]}", held)
    assert formulas == []
    assert (ids["C6"].value, ids["C6"].data_type) == (name, "s")
    assert content.identity["nom"].value == name


def test_referentiel_labels_starting_with_equals_are_text(ref):
    import dataclasses

    first = ref.indicators[0]
    hostile = dataclasses.replace(first, label="=1+1", help="=A1")
    other = dataclasses.replace(ref, indicators=(hostile, *ref.indicators[1:]))
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(build_template(other))))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert any(c.value == "=1+1" for c in cells)
