"""The core run on real DuckDB files and a real archive (no Prefect here; see test_flows)."""

from __future__ import annotations

import duckdb
from helpers.workbooks import drop

from ptce_pipeline.ingestion.run import run_ingest


def q(settings, sql, *params):
    con = duckdb.connect(str(settings.live_db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_accept_then_duplicate_under_another_name(home, make_workbook):
    data = make_workbook("PTCE-001", 2024)
    drop(home, "PTCE-001", "suivi.xlsx", data)
    report = run_ingest(home)
    assert report.statuses["acceptee"] + report.statuses["acceptee_avec_avertissements"] == 1, (
        report.files
    )
    assert not list((home.inbox / "PTCE-001").glob("*.xlsx"))
    drop(home, "PTCE-001", "copie de suivi.xlsx", data)
    report = run_ingest(home)
    assert report.duplicates == 1 and report.new == 0
    assert q(home, "SELECT count(*) FROM submissions") == [(1,)]
    assert sorted(q(home, "SELECT outcome FROM deliveries")) == [("doublon",), ("nouvelle",)]
    archived = list(home.archive_dir.glob("*.xlsx"))
    assert len(archived) == 1


def test_refused_file_changes_no_pole_data(home, make_workbook):
    drop(home, "PTCE-001", "v1.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    before = q(home, "SELECT * FROM current_indicator_values ORDER BY ALL")

    def bad(data):
        data.indicators["IND02"] = 140

    drop(home, "PTCE-001", "v2.xlsx", make_workbook("PTCE-001", 2024, change=bad))
    report = run_ingest(home)
    assert report.statuses["refusee"] == 1
    assert q(home, "SELECT * FROM current_indicator_values ORDER BY ALL") == before
    issues = q(home, "SELECT sheet, cell, code, severity FROM validation_issues")
    assert ("Indicateurs", "F8", "out-of-range", "erreur") in issues
    receipts = list((home.inbox / "PTCE-001" / "retours").glob("*_v2_recu.html"))
    annotated = list((home.inbox / "PTCE-001" / "retours").glob("*_v2_annote.xlsx"))
    assert receipts and annotated


def test_replacement_and_return_to_older_version(home, make_workbook):
    v1 = make_workbook("PTCE-001", 2024)

    def more_jobs(data):
        data.indicators["IND22"] = 999

    v2 = make_workbook("PTCE-001", 2024, change=more_jobs)
    drop(home, "PTCE-001", "v1.xlsx", v1)
    run_ingest(home)
    drop(home, "PTCE-001", "v2.xlsx", v2)
    run_ingest(home)
    assert q(home, "SELECT value FROM current_indicator_values WHERE indicator_code = 'IND22'") == [
        (999.0,)
    ]
    assert sorted(r[0] for r in q(home, "SELECT status FROM submissions")) == [
        "acceptee",
        "remplacee",
    ]
    drop(home, "PTCE-001", "v1 encore.xlsx", v1)
    run_ingest(home)
    assert q(home, "SELECT original_name FROM current_submissions") == [("v1.xlsx",)]


def test_unknown_sender_archived_never_loaded(home, make_workbook):
    drop(home, "", "racine.xlsx", make_workbook("PTCE-001", 2024))
    drop(home, "PTCE-999", "inconnu.xlsx", make_workbook("PTCE-002", 2024))
    report = run_ingest(home)
    assert report.unknown_sender == 2
    assert q(home, "SELECT count(*) FROM submissions") == [(0,)]
    assert sorted(q(home, "SELECT outcome FROM deliveries")) == [("expediteur_inconnu",)] * 2
    assert len(list(home.archive_dir.glob("*.xlsx"))) == 2


def test_same_bytes_refused_in_a_folder_accepted_in_the_right_one(home, make_workbook):
    data = make_workbook("PTCE-002", 2024)
    drop(home, "PTCE-001", "b.xlsx", data)
    run_ingest(home)
    drop(home, "PTCE-002", "b.xlsx", data)
    run_ingest(home)
    rows = q(home, "SELECT inbox_folder, status FROM submissions ORDER BY inbox_folder")
    assert rows[0] == ("PTCE-001", "refusee")
    assert rows[1][0] == "PTCE-002" and rows[1][1].startswith("acceptee")


def test_nothing_new_writes_nothing(home, make_workbook):
    drop(home, "PTCE-001", "a.xlsx", make_workbook())
    run_ingest(home)
    stamp = home.live_db.stat().st_mtime_ns, home.snapshot_db.stat().st_mtime_ns
    report = run_ingest(home)
    assert report.nothing_new
    assert (home.live_db.stat().st_mtime_ns, home.snapshot_db.stat().st_mtime_ns) == stamp
