"""The reference column of a pre-filled workbook (« Valeur 2024 », template version 2) is
known to the reader wherever a pole moves it: part of the table, never data."""

from __future__ import annotations

from helpers.workbooks import filled, workbook

from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one


def with_column_j(header):
    def edit(wb):
        ws = wb[L.SHEET_INDICATORS]
        ws["J4"], ws["J7"] = header, 12

    return edit


def test_a_reference_column_moved_right_of_the_table_is_not_data_outside_it(ref):
    data = filled(ref, "PTCE-001", 2025)
    content = read_one(
        workbook(ref, data, edit=with_column_j("Valeur 2024")), ref, Limits()
    ).content
    assert content.issues == []
    assert content.indicators["IND01"].value == float(data.indicators["IND01"])


def test_a_value_under_any_other_header_there_is_still_data_outside_the_table(ref):
    content = read_one(
        workbook(ref, filled(ref, "PTCE-001", 2025), edit=with_column_j("Valeur bis")),
        ref,
        Limits(),
    ).content
    assert [(i.cell, i.code) for i in content.issues] == [("J4", "data-outside-table")]
