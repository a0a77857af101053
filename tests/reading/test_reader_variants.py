"""The honest variants typed into real workbooks (the template, filled by code, then changed in
one place): each gives back the value the pole meant, or a precise message, at the right
address. Also: moved rows and columns, the annotated copy dropped back, template versions."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile

import pytest
from helpers.workbooks import filled, packaged_ref, workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.config import Limits
from ptce_pipeline.feedback import annotated_workbook
from ptce_pipeline.reading.sandbox import read_one

NBSP, NNBSP = "\u00a0", "\u202f"


def read(data: bytes):
    outcome = read_one(data, packaged_ref(), Limits())
    assert outcome.content is not None, outcome.issues
    return outcome.content


@pytest.fixture(scope="module")
def base(ref):
    """The filled workbook as written, read back: the reference addresses."""
    return read(workbook(ref, filled(ref)))


def with_indicator(ref, code, value, edit=None):
    data = copy.deepcopy(filled(ref))
    data.indicators[code] = value
    return read(workbook(ref, data, edit=edit))


def codes(content):
    return [(i.sheet, i.cell, i.code) for i in content.issues]


def value_cell(wb, code):
    ws = wb[L.SHEET_INDICATORS]
    for row in ws.iter_rows(min_row=L.FIRST_DATA_ROW, max_col=1):
        if row[0].value == code:
            return ws.cell(row=row[0].row, column=6)
    raise KeyError(code)


# --- numbers typed as text ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "typed", "expected"),
    [
        ("IND14", "12,5", 12.5),  # decimal comma
        ("IND05", "1 250 000", 1250000.0),  # space grouping
        ("IND05", f"1{NBSP}250{NBSP}000", 1250000.0),  # no-break space
        ("IND17", f"1{NNBSP}250{NNBSP}000", 1250000.0),  # narrow no-break space
        ("IND08", "35 %", 35.0),  # percent sign
        ("IND25", "185 000 €", 185000.0),  # euro sign
        ("IND05", "1.234.567", 1234567.0),  # dotted grouping
        ("IND14", "1.5", 1.5),  # a dot in a decimal field is a decimal point
        ("IND05", "  42  ", 42.0),  # stray spaces
        ("IND05", 1.234, 1.234),  # a numeric cell is never reinterpreted
    ],
)
def test_number_variants(ref, base, code, typed, expected):
    content = with_indicator(ref, code, typed)
    assert content.indicators[code].value == pytest.approx(expected)
    assert content.indicators[code].cell == base.indicators[code].cell
    assert content.issues == []


@pytest.mark.parametrize("typed", ["NC", "néant", "-", "N/A", "n.c."])
def test_null_like_text_is_read_as_missing_explicitly(ref, base, typed):
    content = with_indicator(ref, "IND05", typed)
    cell = content.indicators["IND05"]
    assert (cell.value, cell.cell) == (None, base.indicators["IND05"].cell)
    assert cell.raw == typed  # the text read is kept with the cell
    assert content.issues == []


def test_single_dot_thousand_in_euros_warns(ref, base):
    content = with_indicator(ref, "IND17", "1.234")
    cell = base.indicators["IND17"].cell
    assert content.indicators["IND17"].value == 1234.0
    assert codes(content) == [("Indicateurs", cell, "ambiguous-number")]
    assert re.search(r"« 1\.234 » a été lu comme 1\s234", content.issues[0].message)
    assert "(1,234)" in content.issues[0].message


def test_single_dot_thousand_in_a_count_warns(ref, base):
    content = with_indicator(ref, "IND05", "1.234")
    assert content.indicators["IND05"].value == 1234.0
    assert codes(content) == [("Indicateurs", base.indicators["IND05"].cell, "ambiguous-number")]


def test_text_in_a_number_is_an_error_at_its_cell(ref, base):
    content = with_indicator(ref, "IND05", "environ 1200")
    cell = base.indicators["IND05"].cell
    assert codes(content) == [("Indicateurs", cell, "not-a-number")]
    assert "« environ 1200 »" in content.issues[0].message
    assert ("Indicateurs", cell) in content.flagged


def test_percent_formatted_cell_means_what_is_shown(ref, base):
    def fmt(wb):
        value_cell(wb, "IND02").number_format = "0%"

    content = with_indicator(ref, "IND02", 0.43, edit=fmt)
    assert content.indicators["IND02"].value == 43.0
    assert content.indicators["IND02"].cell == base.indicators["IND02"].cell


def test_percent_formatted_cell_above_one_reads_what_is_shown(ref):
    def fmt(wb):
        value_cell(wb, "IND02").number_format = "0.0%"

    assert with_indicator(ref, "IND02", 1.4, edit=fmt).indicators["IND02"].value == 140.0


def test_plain_number_in_a_percent_field_is_not_scaled(ref):
    assert with_indicator(ref, "IND02", 0.43).indicators["IND02"].value == 0.43


# --- answers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["Oui", "oui", "OUI", "X", "x", 1, True, " Oui "])
def test_yes_variants(ref, base, typed):
    data = copy.deepcopy(filled(ref))
    data.criteria["CI1"] = (typed, "Justifié.")
    content = read(workbook(ref, data))
    assert content.criteria["CI1"].value == "oui"
    assert content.criteria["CI1"].cell == base.criteria["CI1"].cell


# --- dates, years, SIRET, text ------------------------------------------------------------------
def identity(ref, key, value, edit=None):
    data = copy.deepcopy(filled(ref))
    data.identity[key] = value
    return read(workbook(ref, data, edit=edit))


@pytest.mark.parametrize(
    "typed",
    [
        dt.datetime(2025, 2, 14),  # a date cell
        45702,  # the serial number in a General cell (1900 date system)
        "14/02/2025",  # JJ/MM/AAAA typed as text
        "14 février 2025",
    ],
)
def test_date_variants(ref, typed):
    content = identity(ref, "date_remplissage", typed)
    assert content.identity["date_remplissage"].value == dt.date(2025, 2, 14)
    assert content.issues == []


def test_dates_in_the_1904_system(ref):
    """Old Mac Excel counts days from 1904: a date cell and a bare serial both read right."""

    def mac(wb):
        wb.epoch = CALENDAR_MAC_1904

    content = identity(ref, "date_remplissage", dt.datetime(2025, 2, 14), edit=mac)
    assert content.identity["date_remplissage"].value == dt.date(2025, 2, 14)
    content = identity(ref, "date_remplissage", 44240, edit=mac)  # 2025-02-14 since 1904
    assert content.identity["date_remplissage"].value == dt.date(2025, 2, 14)


def test_invalid_date_is_an_error_at_its_cell(ref):
    content = identity(ref, "date_remplissage", "31/02/2025")
    assert codes(content) == [("Identité", "C21", "invalid-date")]


@pytest.mark.parametrize(
    "typed", [47600137504413, "476 001 375 04413", f"476{NBSP}001{NBSP}375{NBSP}04413"]
)
def test_siret_as_number_or_with_spaces(ref, typed):
    content = identity(ref, "structure_siret", typed)
    assert content.identity["structure_siret"].value == "47600137504413"
    assert content.identity["structure_siret"].cell == "C9"


def test_member_siret_typed_as_a_number(ref):
    data = copy.deepcopy(filled(ref))
    data.members[2]["siret"] = int(data.members[2]["siret"])
    content = read(workbook(ref, data))
    assert content.members[2]["siret"].value == filled(ref).members[2]["siret"]
    assert content.members[2]["siret"].cell == f"C{L.FIRST_DATA_ROW + 2}"


def test_stray_spaces_and_invisible_characters(ref):
    content = identity(ref, "nom", "  Pôle   Sud\u200b ")
    assert content.identity["nom"].value == "Pôle Sud"
    assert codes(content) == [("Identité", "C6", "invisible-characters")]


def test_year_variants(ref):
    assert identity(ref, "annee_creation", "2008").identity["annee_creation"].value == 2008
    assert identity(ref, "annee_creation", 2008.0).identity["annee_creation"].value == 2008
    content = identity(ref, "annee_creation", "deux mille huit")
    assert codes(content) == [("Identité", "C18", "invalid-year")]


# --- formulas ---------------------------------------------------------------------------------
def test_formula_without_cached_value_is_reported_at_its_cell(ref, base):
    """openpyxl writes formulas without their value: nothing is ever evaluated."""
    content = with_indicator(ref, "IND05", "=1000+234")
    cell = base.indicators["IND05"].cell
    assert content.indicators["IND05"].value is None
    assert codes(content) == [("Indicateurs", cell, "formula-without-value")]


def test_error_value_typed_in_a_cell(ref, base):
    content = with_indicator(ref, "IND05", "#DIV/0!")
    assert codes(content) == [("Indicateurs", base.indicators["IND05"].cell, "formula-error")]
    assert "#DIV/0!" in content.issues[0].message


# --- moved rows and columns keep the right addresses --------------------------------------------
def swap_rows(ws, r1, r2, width):
    for col in range(1, width + 1):
        a, b = ws.cell(row=r1, column=col), ws.cell(row=r2, column=col)
        a.value, b.value = b.value, a.value


def test_reordered_indicator_rows(ref, base):
    r5 = int(base.indicators["IND05"].cell[1:])
    r20 = int(base.indicators["IND20"].cell[1:])
    content = read(
        workbook(ref, filled(ref), edit=lambda wb: swap_rows(wb[L.SHEET_INDICATORS], r5, r20, 7))
    )
    assert content.indicators["IND05"].cell == f"F{r20}"
    assert content.indicators["IND20"].cell == f"F{r5}"
    assert content.indicators["IND05"].value == base.indicators["IND05"].value
    assert content.issues == []


def test_inserted_blank_rows(ref, base):
    def insert(wb):
        wb[L.SHEET_INDICATORS].insert_rows(8, 3)
        wb[L.SHEET_MEMBERS].insert_rows(7, 2)
        wb[L.SHEET_CRITERIA].insert_rows(6, 1)

    content = read(workbook(ref, filled(ref), edit=insert))
    for code, cell in base.indicators.items():
        row = int(cell.cell[1:])
        assert content.indicators[code].cell == f"F{row + 3 if row >= 8 else row}", code
        assert content.indicators[code].value == cell.value
    assert content.member_rows == [5, 6, 9, 10, 11, 12, 13]
    assert [m["nom"].value for m in content.members] == [m["nom"].value for m in base.members]
    assert content.criteria["CI1"].cell == "D7"
    assert content.issues == []


def test_reordered_columns(ref, base):
    def swap(wb):
        ws = wb[L.SHEET_INDICATORS]
        for row in range(1, ws.max_row + 1):
            f, g = ws.cell(row=row, column=6), ws.cell(row=row, column=7)
            f.value, g.value = g.value, f.value
        ws = wb[L.SHEET_MEMBERS]
        for row in range(1, ws.max_row + 1):
            c, h = ws.cell(row=row, column=3), ws.cell(row=row, column=8)
            c.value, h.value = h.value, c.value

    content = read(workbook(ref, filled(ref), edit=swap))
    assert content.indicators["IND05"].cell == base.indicators["IND05"].cell.replace("F", "G")
    assert content.indicators["IND05"].value == base.indicators["IND05"].value
    assert content.members[0]["siret"].cell == "H5"
    assert content.members[0]["siret"].value == base.members[0]["siret"].value
    assert content.members[0]["etp"].cell == "C5"
    assert content.issues == []


def test_reordered_identity_rows(ref):
    content = read(
        workbook(ref, filled(ref), edit=lambda wb: swap_rows(wb[L.SHEET_IDENTITY], 6, 9, 4))
    )
    assert (content.identity["nom"].cell, content.identity["nom"].value) == ("C9", "Pôle Sud")
    assert content.identity["structure_siret"].cell == "C6"


def test_headers_with_other_case_and_spaces(ref, base):
    def shout(wb):
        wb[L.SHEET_INDICATORS]["F4"] = "  VALEUR  "
        wb[L.SHEET_MEMBERS]["C4"] = "siret "

    content = read(workbook(ref, filled(ref), edit=shout))
    assert content.indicators["IND05"].value == base.indicators["IND05"].value
    assert content.members[0]["siret"].value == base.members[0]["siret"].value
    assert content.issues == []


def test_value_typed_right_of_the_table_is_a_warning(ref):
    content = read(
        workbook(ref, filled(ref), edit=lambda wb: wb[L.SHEET_INDICATORS].cell(9, 10, 7))
    )
    assert codes(content) == [("Indicateurs", "J9", "data-outside-table")]


def test_hidden_data_sheet_is_read_with_a_warning(ref, base):
    def hide(wb):
        wb[L.SHEET_CRITERIA].sheet_state = "hidden"

    content = read(workbook(ref, filled(ref), edit=hide))
    assert codes(content) == [("Critères", None, "hidden-sheet")]
    assert content.criteria["CI2"].value == base.criteria["CI2"].value


def test_missing_sheet_names_expected_and_found(ref):
    def rename(wb):
        wb[L.SHEET_CRITERIA].title = "Feuil1"

    content = read(workbook(ref, filled(ref), edit=rename))
    (issue,) = [i for i in content.issues if i.code == "missing-sheet"]
    assert "« Critères »" in issue.message and "Feuil1" in issue.message


def test_merged_cells_in_the_input_area(ref):
    content = read(
        workbook(ref, filled(ref), edit=lambda wb: wb[L.SHEET_INDICATORS].merge_cells("F7:F9"))
    )
    assert codes(content) == [("Indicateurs", "F7", "merged-cells")]
    assert "F7:F9" in content.issues[0].message


# --- the annotated copy dropped back ------------------------------------------------------------
def test_annotated_copy_reads_like_the_original(ref, base):
    data = copy.deepcopy(filled(ref))
    data.indicators["IND05"] = "environ 1200"
    original = workbook(ref, data)
    first = read(original)
    annotated = annotated_workbook(original, "xlsx", first.issues)
    names = zipfile.ZipFile(io.BytesIO(annotated)).namelist()
    assert any("comments" in n for n in names)  # it does carry our comments and fills
    again = read(annotated)
    assert codes(again) == codes(first)
    assert {k: (c.value, c.cell) for k, c in again.indicators.items()} == {
        k: (c.value, c.cell) for k, c in first.indicators.items()
    }
    assert again.members and [m["siret"].value for m in again.members] == [
        m["siret"].value for m in base.members
    ]
    assert again.template_version == TEMPLATE_VERSION


# --- template versions --------------------------------------------------------------------------
def with_version(ref, version, edit=None):
    def set_version(wb):
        ws = wb[L.SHEET_META]
        for row in ws.iter_rows(max_col=2):
            if row[0].value == "template_version":
                row[1].value = version
        for prop in wb.custom_doc_props.props:
            if prop.name == "ptce_template_version":
                prop.value = version
        if edit:
            edit(wb)

    return read(workbook(ref, filled(ref), edit=set_version))


def test_unknown_template_version(ref):
    content = with_version(ref, "7")
    assert codes(content) == [(None, None, "unknown-template-version")]
    message = content.issues[0].message
    assert "version 7" in message and f"version {TEMPLATE_VERSION}" in message
    assert content.indicators == {}


def test_older_version_read_through_its_declared_mapping(ref, base, monkeypatch):
    """A 'version 0' that called the value column « Valeur déclarée », the criteria sheet
    « Labellisation » and the fifth indicator I-05."""
    monkeypatch.setitem(
        L.TEMPLATE_LAYOUTS,
        "0",
        L.LayoutMap(
            sheets={"Labellisation": L.SHEET_CRITERIA},
            headers={L.SHEET_INDICATORS: {"Valeur déclarée": L.IND_VALUE}},
            codes={"I-05": "IND05"},
        ),
    )

    def old_layout(wb):
        ws = wb[L.SHEET_INDICATORS]
        ws["F4"] = "Valeur déclarée"
        value_cell(wb, "IND05").offset(column=-5).value = "I-05"
        wb[L.SHEET_CRITERIA].title = "Labellisation"

    content = with_version(ref, "0", old_layout)
    assert codes(content) == [(None, None, "old-template-version")]
    assert "version 0" in content.issues[0].message
    assert content.indicators["IND05"].value == base.indicators["IND05"].value
    assert content.indicators["IND05"].cell == base.indicators["IND05"].cell
    assert content.criteria["CI2"].value == base.criteria["CI2"].value
    assert content.sheet_names[L.SHEET_CRITERIA] == "Labellisation"


def test_older_version_without_mapping_is_unknown(ref):
    assert codes(with_version(ref, "0")) == [(None, None, "unknown-template-version")]


def test_version_from_document_properties_when_the_hidden_sheet_is_gone(ref, base):
    content = read(workbook(ref, filled(ref), edit=lambda wb: wb.remove(wb[L.SHEET_META])))
    assert content.template_version == TEMPLATE_VERSION
    assert content.meta["pole_id"] == "PTCE-001"
    assert content.issues == []


def test_no_metadata_at_all_reads_as_the_current_layout(ref, base):
    def strip(wb):
        wb.remove(wb[L.SHEET_META])
        wb.custom_doc_props.props.clear()

    content = read(workbook(ref, filled(ref), edit=strip))
    assert content.template_version is None
    assert content.indicators["IND05"].value == base.indicators["IND05"].value
    assert content.issues == []


def test_not_the_template(ref):
    from openpyxl import Workbook

    from ptce_pipeline.template import workbook_bytes

    wb = Workbook()
    wb.active.title = "Données"
    wb.active["A1"] = "x"
    content = read(workbook_bytes(wb))
    assert codes(content) == [(None, None, "unknown-template")]
    assert "Données" in content.issues[0].message


def test_dimension_that_lies_is_not_trusted(ref, base):
    data = workbook(ref, filled(ref))
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                blob = blob.replace(b'<dimension ref="A1:H304" />', b'<dimension ref="A1" />')
                assert b'<dimension ref="A1" />' in blob
            dst.writestr(info, blob)
    content = read(out.getvalue())
    assert len(content.members) == len(base.members)
