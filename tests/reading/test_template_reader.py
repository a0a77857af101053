"""Round trip: template → filled by code → read gives back exactly the values, with the right
cell addresses."""

from __future__ import annotations

import openpyxl
import pytest
from helpers.workbooks import filled, workbook

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one


def test_round_trip_values_and_cells(ref):
    data = filled(ref)
    content = read_one(workbook(ref, data), ref, Limits()).content
    assert content.issues == []
    assert content.template_version == TEMPLATE_VERSION
    assert content.identity["pole_id"].value == "PTCE-001"
    assert content.identity["pole_id"].cell == "C5"
    assert content.identity["periode"].value == 2024
    assert len(content.members) == len(data.members)
    assert content.member_rows[0] == L.FIRST_DATA_ROW
    first = data.members[0]
    assert content.members[0]["siret"].value == first["siret"]
    assert content.members[0]["nom"].value == first["nom"]
    assert content.members[0]["siret"].cell == f"C{L.FIRST_DATA_ROW}"
    for code, value in data.indicators.items():
        assert content.indicators[code].value == pytest.approx(float(value)), code
    # IND01 is the first indicator, after the OG1 and OP1 group rows
    assert content.indicators["IND01"].cell == f"F{L.FIRST_DATA_ROW + 2}"
    assert {c: cell.value for c, cell in content.criteria.items()} == {
        c: {"Oui": "oui", "Non": "non", "En partie": "en_partie"}[a]
        for c, (a, _w) in data.criteria.items()
    }


def test_template_has_validations_protection_and_metadata(ref, tmp_path):
    data = workbook(ref, filled(ref))
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:5] == [
        L.SHEET_README,
        L.SHEET_IDENTITY,
        L.SHEET_MEMBERS,
        L.SHEET_INDICATORS,
        L.SHEET_CRITERIA,
    ]
    ws = wb[L.SHEET_INDICATORS]
    assert ws.protection.sheet and not ws.protection.password
    assert ws["F7"].protection.locked is False and ws["D7"].protection.locked is True
    assert ws.freeze_panes == "A5"
    prompts = [dv.prompt for dv in ws.data_validations.dataValidation]
    assert any(ref.indicator_by_code["IND01"].help[:40] in (p or "") for p in prompts)
    assert wb[L.SHEET_META].sheet_state == "veryHidden"
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["ptce_template_version"] == TEMPLATE_VERSION
    assert props["ptce_referentiel_version"] == ref.version


def test_template_is_deterministic(ref):
    assert workbook(ref, filled(ref)) == workbook(ref, filled(ref))
