"""Files are taken in the order they arrived on this machine (inode change time, the name
breaking ties), not in name order: the journal numbers them, the version in force and the
receipts follow that order."""

from __future__ import annotations

import html
import json
import os
import time
from pathlib import Path

import pytest
from helpers.workbooks import drop, make_home, q, set_indicator

from ptce_pipeline.ingestion.inbox import Candidate, arrival_key, scan_inbox
from ptce_pipeline.ingestion.run import run_ingest


def drop_in_order(settings, folder: str, files: list[tuple[str, bytes]]) -> list[Path]:
    """Drop the files one after the other, each with a strictly later inode change time."""
    paths: list[Path] = []
    for name, data in files:
        while True:
            path = drop(settings, folder, name, data)
            if not paths or os.lstat(path).st_ctime_ns > os.lstat(paths[-1]).st_ctime_ns:
                break
            path.unlink()
            time.sleep(0.02)  # a coarse file-system clock: try again a little later
        paths.append(path)
    return paths


def receipt(settings, pole: str, stem: str) -> str:
    (path,) = (settings.inbox / pole / "retours").glob(f"*_{stem}_recu.html")
    return html.unescape(path.read_text("utf-8")).replace("\xa0", " ")


def deliveries(settings) -> list[tuple[int, str]]:
    records = [json.loads(line) for line in settings.journal_path.open(encoding="utf-8")]
    return [(r["seq"], r["name"]) for r in records if r.get("type") == "delivery"]


def test_a_scan_lists_files_in_arrival_order_not_name_order(home):
    drop_in_order(home, "PTCE-001", [("c.xlsx", b"1"), ("a.xlsx", b"2"), ("b.xlsx", b"3")])
    drop_in_order(home, "PTCE-002", [("0.xlsx", b"4")])
    assert [c.name for c in scan_inbox(home, 0).ready] == ["c.xlsx", "a.xlsx", "b.xlsx", "0.xlsx"]


def test_equal_arrival_times_fall_back_to_folder_and_name():
    def cand(folder: str, name: str, ctime_ns: int) -> Candidate:
        return Candidate(Path(folder, name), folder, name, 1, 0, 1, ctime_ns)

    found = [
        cand("PTCE-002", "a.xlsx", 5),
        cand("PTCE-001", "b.xlsx", 5),
        cand("PTCE-001", "a.xlsx", 5),
    ]
    assert [(c.folder, c.name) for c in sorted(found, key=arrival_key)] == [
        ("PTCE-001", "a.xlsx"),
        ("PTCE-001", "b.xlsx"),
        ("PTCE-002", "a.xlsx"),
    ]


@pytest.mark.parametrize("chunk", ["200", "1"])  # one chunk, or one file a chunk
def test_v3_then_a_copy_of_v2_the_copy_dropped_last_is_in_force(tmp_path, make_workbook, chunk):
    """The contract (docs/dictionnaire.md, « Version en vigueur »): the version in force is the
    one the pole dropped last, a duplicate included. In name order the copy of v2 came first
    and v3 stayed in force; in arrival order the copy comes last and v2 stays in force."""
    home = make_home(tmp_path / "home", PTCE_CHUNK_SIZE=chunk)
    v2 = make_workbook(change=set_indicator("IND22", 45))
    v3 = make_workbook(change=set_indicator("IND22", 60))
    drop(home, "PTCE-001", "suivi_v2.xlsx", v2)
    run_ingest(home)
    drop_in_order(home, "PTCE-001", [("suivi_v3.xlsx", v3), ("suivi_v2 - copie.xlsx", v2)])
    run_ingest(home)
    assert [name for _seq, name in deliveries(home)] == [
        "suivi_v2.xlsx",
        "suivi_v3.xlsx",
        "suivi_v2 - copie.xlsx",
    ]
    assert q(home.live_db, "SELECT original_name FROM current_submissions") == [("suivi_v2.xlsx",)]
    # v2 never stopped being in force: the copy changes nothing, and says so
    copy = receipt(home, "PTCE-001", "suivi_v2 - copie")
    assert "Déjà reçu le " in copy and "rien ne change" in copy
    assert "était déjà intégré au suivi national et reste la version en vigueur" in copy
    assert "Vos données sont intégrées" not in copy
    # v3 arrived before the copy: accepted, but the pole's later drop stays in force
    v3_text = receipt(home, "PTCE-001", "suivi_v3")
    assert "Remplacé par une version déposée plus récemment" in v3_text
    assert "une version déposée plus récemment par le pôle reste la version en vigueur" in v3_text
    assert "Vos données sont intégrées" not in v3_text


def test_a_copy_of_v2_then_v3_v3_is_in_force_and_the_copy_says_it_was_replaced(home, make_workbook):
    v2 = make_workbook(change=set_indicator("IND22", 45))
    v3 = make_workbook(change=set_indicator("IND22", 60))
    drop(home, "PTCE-001", "suivi_v2.xlsx", v2)
    run_ingest(home)
    # name order would take v3 first ("a…" < "z…"): arrival order takes the copy first
    drop_in_order(home, "PTCE-001", [("z copie v2.xlsx", v2), ("a v3.xlsx", v3)])
    run_ingest(home)
    assert [name for _seq, name in deliveries(home)][1:] == ["z copie v2.xlsx", "a v3.xlsx"]
    assert q(home.live_db, "SELECT original_name FROM current_submissions") == [("a v3.xlsx",)]
    v3_id = q(home.live_db, "SELECT submission_id FROM current_submissions")[0][0]
    copy = receipt(home, "PTCE-001", "z copie v2")
    assert "Remplacé par une version déposée plus récemment" in copy
    assert "cette version a depuis été remplacée par le fichier reçu le " in copy
    assert f"(dépôt n° {v3_id}), qui reste la version en vigueur" in copy
    assert "rien ne change" not in copy and "Vos données sont intégrées" not in copy
    assert "Vos données sont intégrées" in receipt(home, "PTCE-001", "a v3")


def test_a_duplicate_of_the_version_in_force_is_worded_as_such(home, make_workbook):
    data = make_workbook()
    drop(home, "PTCE-001", "suivi.xlsx", data)
    run_ingest(home)
    drop(home, "PTCE-001", "suivi encore.xlsx", data)
    run_ingest(home)
    text = receipt(home, "PTCE-001", "suivi encore")
    assert "rien ne change" in text
    assert "était déjà intégré au suivi national et reste la version en vigueur" in text
    assert "Vos données sont intégrées" not in text


def test_two_new_versions_in_one_run_the_first_receipt_says_it_was_replaced(home, make_workbook):
    v3 = make_workbook(change=set_indicator("IND22", 60))
    v4 = make_workbook(change=set_indicator("IND22", 70))
    drop_in_order(home, "PTCE-001", [("v4.xlsx", v4), ("v3.xlsx", v3)])  # v3 dropped last
    run_ingest(home)
    assert q(home.live_db, "SELECT original_name FROM current_submissions") == [("v3.xlsx",)]
    v3_id = q(home.live_db, "SELECT submission_id FROM current_submissions")[0][0]
    first = receipt(home, "PTCE-001", "v4")
    assert "Remplacé par une version déposée plus récemment" in first
    assert f"(dépôt n° {v3_id}), qui est désormais la version en vigueur" in first
    assert "Vos données sont intégrées" not in first
    assert "Vos données sont intégrées" in receipt(home, "PTCE-001", "v3")
