"""The pre-flight bounds the total work a file asks for, not only each sheet: the cells of all
sheets together (each sheet counted to its farthest value cell, repeated rows and columns
included) and how often one worksheet part is parsed."""

from __future__ import annotations

from helpers.costly import DATA, ods_repeated_sheets, xlsx_shared_part
from helpers.workbooks import filled, workbook

from ptce_pipeline.config import Limits, load_settings
from ptce_pipeline.reading.preflight import run_preflight
from ptce_pipeline.reading.sandbox import read_one


def refusal(ref, data: bytes, limits: Limits | None = None):
    outcome = read_one(data, ref, limits or Limits())
    assert outcome.content is None
    (issue,) = outcome.issues
    return issue


def test_repeated_values_across_ods_sheets_are_refused_by_their_total(ref):
    issue = refusal(ref, ods_repeated_sheets(sheets=3))
    assert (issue.code, issue.sheet) == ("too-large", "Annexe0")
    assert "les feuilles couvrent 4 003 872 cellules en tout" in issue.message
    assert "(au plus 1 000 000)" in issue.message


def test_each_ods_sheet_inside_its_caps_but_not_all_together(ref):
    # 20 000 × 200 each is inside the per-sheet caps; the third crosses a bound of 9 million
    issue = refusal(ref, ods_repeated_sheets(sheets=3), Limits(max_cells=9_000_000))
    assert (issue.code, issue.sheet) == ("too-large", "Annexe2")


def test_twenty_sheet_entries_on_one_part_are_refused(ref):
    issue = refusal(ref, xlsx_shared_part(workbook(ref, filled(ref)), entries=20, rows=50))
    assert (issue.code, issue.sheet) == ("unsafe-archive", "Copie1")
    assert "les feuilles « Copie0 » et « Copie1 » renvoient au même contenu" in issue.message


def test_xlsx_total_counts_every_sheet(ref):
    data = xlsx_shared_part(workbook(ref, filled(ref)), entries=1, rows=2_000)
    assert read_one(data, ref, Limits()).content is not None  # 20 000 cells more: fine
    issue = refusal(ref, data, Limits(max_cells=20_000))
    assert issue.code == "too-large" and "cellules en tout" in issue.message


def test_a_real_workbook_is_far_below_the_bound(ref):
    ods = (DATA / "libreoffice_filled.ods").read_bytes()
    for fmt, data in (("xlsx", workbook(ref, filled(ref))), ("ods", ods)):
        scans = run_preflight(data, fmt, Limits()).sheets.values()
        assert 0 < sum(s.max_row * s.max_col for s in scans) < Limits().max_cells // 100


def test_the_bound_is_a_setting():
    assert Limits().max_cells == 1_000_000
    assert Limits().worker_memory_mb <= 1024  # the README's bound: no process above 1 GB
    assert load_settings({"PTCE_MAX_CELLS": "5000"}, home="/tmp").limits.max_cells == 5000
