"""Round trip through LibreOffice: the filled template opened and saved by LibreOffice (as .xlsx
and as .ods) reads back exactly the values written, at the same addresses.

The converted files are committed (tests/data/, made by tests/data/make_fixtures.py) because CI
has no LibreOffice; when soffice is installed the conversion is also done live."""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from pathlib import Path

import pytest

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.preflight import run_preflight
from ptce_pipeline.reading.sandbox import read_one

DATA = Path(__file__).parents[1] / "data"
_spec = importlib.util.spec_from_file_location("make_fixtures", DATA / "make_fixtures.py")
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

needs_soffice = pytest.mark.skipif(
    fixtures.soffice() is None, reason="LibreOffice (soffice) absent : conversion en direct sautée"
)


def snapshot(content):
    """Every value the reader got, with its address."""
    return {
        "identity": {k: (c.value, c.cell) for k, c in content.identity.items()},
        "members": [{k: (c.value, c.cell) for k, c in m.items()} for m in content.members],
        "member_rows": content.member_rows,
        "indicators": {k: (c.value, c.cell) for k, c in content.indicators.items()},
        "comments": {k: (c.value, c.cell) for k, c in content.indicator_comments.items()},
        "criteria": {k: (c.value, c.cell) for k, c in content.criteria.items()},
        "justifications": {k: (c.value, c.cell) for k, c in content.justifications.items()},
    }


@pytest.fixture(scope="module")
def source(ref):
    data, filled_data = fixtures.source_filled(ref)
    return data, filled_data


@pytest.fixture(scope="module")
def expected(ref, source):
    """What the filled template reads as when written by openpyxl (no formula value yet)."""
    content = read_one(source[0], ref, Limits()).content
    assert [(i.cell, i.code) for i in content.issues] == [
        (content.indicators[fixtures.FORMULA_INDICATOR].cell, "formula-without-value")
    ]
    snap = snapshot(content)
    cell = snap["indicators"][fixtures.FORMULA_INDICATOR][1]
    snap["indicators"][fixtures.FORMULA_INDICATOR] = (fixtures.FORMULA_VALUE, cell)
    return snap


def test_source_reads_back_what_was_typed(ref, source, expected):
    _data, filled_data = source
    assert expected["identity"]["date_remplissage"][0] == fixtures.DATE_FILLED
    assert expected["identity"]["structure_siret"][0] == filled_data.identity["structure_siret"]
    assert expected["members"][0]["siret"][0] == str(filled_data.members[0]["siret"])
    assert expected["members"][1]["etp"][0] == 2.5
    assert expected["indicators"][fixtures.PERCENT_INDICATOR][0] == 43.0
    assert expected["indicators"]["IND25"][0] == 185000.0
    assert expected["criteria"]["CI1"][0] == "oui"
    assert expected["member_rows"] == list(
        range(L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + len(filled_data.members))
    )


# The committed copies were made with template version 1 (before the reference column of
# pre-filled workbooks): they also show that an older version still reads, with its warning.
FIXTURE_VERSION = "1"
OLD_VERSION = [(None, "old-template-version")]


def check_libreoffice_copy(
    ref, data: bytes, fmt: str, expected, version: str = TEMPLATE_VERSION
) -> None:
    outcome = read_one(data, ref, Limits())
    assert outcome.format == fmt
    content = outcome.content
    # the formula now has LibreOffice's cached value: nothing to report but an older version
    old = [] if version == TEMPLATE_VERSION else OLD_VERSION
    assert [(i.cell, i.code) for i in content.issues] == old
    assert content.template_version == version
    assert content.meta["pole_id"] == "PTCE-001"
    assert snapshot(content) == expected


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_committed_libreoffice_copy(ref, expected, fmt):
    data = (DATA / f"libreoffice_filled.{fmt}").read_bytes()
    check_libreoffice_copy(ref, data, fmt, expected, FIXTURE_VERSION)


@needs_soffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_live_libreoffice_conversion(ref, source, expected, fmt):
    check_libreoffice_copy(ref, fixtures.convert(source[0], fmt), fmt, expected)


def test_what_libreoffice_changes_is_what_we_expect():
    """If a LibreOffice version stops doing one of these, the reader's handling of it is no
    longer exercised: re-check the reader before updating the fixtures."""
    xlsx = zipfile.ZipFile(DATA / "libreoffice_filled.xlsx")
    workbook = xlsx.read("xl/workbook.xml")
    assert b'name="_ptce" sheetId="7" state="hidden"' in workbook  # veryHidden → hidden
    assert "xl/sharedStrings.xml" in xlsx.namelist()
    assert b"ptce_template_version" in xlsx.read("docProps/custom.xml")
    criteria = xlsx.read("xl/worksheets/sheet5.xml")
    # a boolean TRUE comes back as the formula TRUE() with its cached value
    assert re.search(rb'<c r="D6" s="\d+" t="b"><f aca="false">TRUE\(\)</f><v>1</v>', criteria)
    ods = zipfile.ZipFile(DATA / "libreoffice_filled.ods")
    assert b'meta:name="ptce_template_version"' in ods.read("meta.xml")
    content = ods.read("content.xml")
    assert b'office:value-type="percentage"' in content
    assert b'office:value-type="date"' in content
    # … and in .ods the number 1 computed by TRUE(): both read as « Oui »
    assert b'table:formula="of:=TRUE()" office:value-type="float" office:value="1"' in content
    assert b"table:number-rows-repeated" in content  # trailing empty rows, counted not read


def test_libreoffice_metadata_survives_without_the_hidden_sheet(ref):
    """The ODS keeps the template version in meta.xml: enough when _ptce is deleted."""
    pre = run_preflight((DATA / "libreoffice_filled.ods").read_bytes(), "ods", Limits())
    assert pre.custom_props["template_version"] == FIXTURE_VERSION
    assert pre.custom_props["pole_id"] == "PTCE-001"


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_committed_error_values(ref, expected, fmt):
    content = read_one((DATA / f"libreoffice_errors.{fmt}").read_bytes(), ref, Limits()).content
    cells = {code: expected["indicators"][code][1] for code in fixtures.ERRORS}
    got = {(i.cell, i.code): i.value for i in content.issues}
    assert got.pop((None, "old-template-version")) is None  # a version 1 copy
    assert got == {
        (cells["IND05"], "formula-error"): "#N/A",
        (cells["IND14"], "formula-error"): "#DIV/0!",
        (cells["IND23"], "formula-error"): "#NAME?",
    }
    assert all(content.indicators[code].value is None for code in fixtures.ERRORS)
    assert all(i.sheet == L.SHEET_INDICATORS for i in content.issues if i.cell)


def test_ods_hidden_sheet_is_reported(ref):
    """In ODS a sheet is hidden through its table style, not an attribute of the table."""
    src = zipfile.ZipFile(DATA / "libreoffice_filled.ods")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename == "content.xml":
                blob = blob.replace(
                    b'table:name="Crit\xc3\xa8res" table:style-name="ta5"',
                    b'table:name="Crit\xc3\xa8res" table:style-name="ta6"',
                )
                assert b'table:name="Crit\xc3\xa8res" table:style-name="ta6"' in blob
            dst.writestr(info, blob, zipfile.ZIP_STORED if info.filename == "mimetype" else 8)
    content = read_one(out.getvalue(), ref, Limits()).content
    assert [(i.sheet, i.code) for i in content.issues] == [
        (None, "old-template-version"),
        ("Critères", "hidden-sheet"),
    ]


def test_merged_cells_in_an_ods(ref):
    """calamine gives no merged areas for .ods: the pre-flight's scan of content.xml does."""
    content = read_one((DATA / "libreoffice_merged.ods").read_bytes(), ref, Limits()).content
    merged = [i for i in content.issues if i.code == "merged-cells"]
    assert [(i.sheet, i.cell) for i in merged] == [(L.SHEET_INDICATORS, "F7")]
    assert fixtures.MERGED in merged[0].message
