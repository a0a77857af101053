"""The warehouse on real DuckDB files: every delivery accounted for, atomic loads, lineage to
the archived cell, migrations, and analysts who never block a run."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import subprocess
import sys
import textwrap

import duckdb
import openpyxl
import pytest
from helpers.workbooks import drop, q, set_indicator

from ptce_pipeline.catalogue.context import load_config
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.ingestion.unit import UnitOfWork
from ptce_pipeline.store.journal import Journal, store
from ptce_pipeline.store.snapshot import PERSONAL_TABLES, SNAPSHOT_VIEWS
from ptce_pipeline.store.warehouse import (
    Generation,
    _migrations,
    connect,
    dump,
    migrate,
)

POLE_TABLES = ("identity_values", "contacts", "members", "indicator_values", "criteria_answers")


def dumps(path):
    con = connect(path, read_only=True)
    try:
        return dump(con)
    finally:
        con.close()


def views(path) -> dict[str, list[tuple]]:
    return {v: q(path, f"SELECT * FROM {v} ORDER BY ALL") for v in SNAPSHOT_VIEWS}


def test_same_file_under_two_names_is_one_submission_and_two_deliveries(home, make_workbook):
    data = make_workbook("PTCE-001", 2024)
    drop(home, "PTCE-001", "suivi.xlsx", data)
    run_ingest(home)
    drop(home, "PTCE-001", "suivi (copie).xlsx", data)
    run_ingest(home)
    deliveries = q(
        home.live_db,
        "SELECT original_name, outcome, submission_id FROM deliveries ORDER BY delivery_id",
    )
    (sid,) = q(home.live_db, "SELECT submission_id FROM submissions")[0]
    assert deliveries == [("suivi.xlsx", "nouvelle", sid), ("suivi (copie).xlsx", "doublon", sid)]
    last = q(
        home.live_db,
        "SELECT any_value(s.last_delivery_id) = max(d.delivery_id), "
        "any_value(s.last_received_at) = max(d.received_at) "
        "FROM submissions s JOIN deliveries d USING (submission_id)",
    )
    assert last == [(True, True)]
    assert len([p for p in home.archive_dir.iterdir() if p.suffix == ".xlsx"]) == 1
    receipt = next((home.inbox / "PTCE-001" / "retours").glob("*copie_recu.html"))
    assert "Déjà reçu le" in receipt.read_text(encoding="utf-8")


def test_replacement_keeps_history_and_the_pole_can_go_back(home, make_workbook):
    v1 = make_workbook("PTCE-001", 2024)
    drop(home, "PTCE-001", "v1.xlsx", v1)
    run_ingest(home)
    drop(home, "PTCE-001", "v2.xlsx", make_workbook(change=set_indicator("IND22", 999)))
    run_ingest(home)
    value = "SELECT value, source_file FROM current_indicator_values WHERE indicator_code = 'IND22'"
    assert q(home.live_db, value) == [(999.0, "v2.xlsx")]
    statuses = "SELECT original_name, status FROM submissions ORDER BY submission_id"
    assert q(home.live_db, statuses) == [("v1.xlsx", "remplacee"), ("v2.xlsx", "acceptee")]
    # the replaced version stays queryable, with its values
    old = q(
        home.live_db,
        "SELECT count(*) FROM indicator_values JOIN submissions USING (submission_id) "
        "WHERE status = 'remplacee'",
    )
    assert old[0][0] > 20
    drop(home, "PTCE-001", "v1 retour.xlsx", v1)
    run_ingest(home)
    assert q(home.live_db, statuses) == [("v1.xlsx", "acceptee"), ("v2.xlsx", "remplacee")]
    assert q(home.live_db, value)[0][1] == "v1.xlsx"
    audit = q(home.live_db, "SELECT action, by_user, submission_id FROM audit")
    assert audit == [
        ("reinstate", "pôle", q(home.live_db, "SELECT min(submission_id) FROM submissions")[0][0])
    ]


def test_refused_file_leaves_pole_data_and_views_unchanged(home, make_workbook):
    drop(home, "PTCE-001", "v1.xlsx", make_workbook("PTCE-001", 2024))
    drop(home, "PTCE-002", "a.xlsx", make_workbook("PTCE-002", 2024))
    run_ingest(home)
    before_tables, before_views = dumps(home.live_db), views(home.snapshot_db)
    drop(home, "PTCE-001", "v2.xlsx", make_workbook(change=set_indicator("IND02", 140)))
    report = run_ingest(home)
    assert report.statuses["refusee"] == 1
    after = dumps(home.live_db)
    for table in (*POLE_TABLES, "audit"):
        assert after[table] == before_tables[table], table
    after_views = views(home.snapshot_db)
    for view in SNAPSHOT_VIEWS:
        if view != "completeness":
            assert after_views[view] == before_views[view], view
    # completeness: the pole keeps its accepted version; only the reception time moves
    columns = [r[0] for r in q(home.snapshot_db, "DESCRIBE completeness")]
    moved = columns.index("last_received_at")

    def without_time(rows):
        return [r[:moved] + r[moved + 1 :] for r in rows]

    assert without_time(after_views["completeness"]) == without_time(before_views["completeness"])
    received = q(
        home.snapshot_db,
        "SELECT c.status, c.last_received_at = s.received_at FROM completeness c JOIN submissions s "
        "ON s.pole_id = c.pole_id AND s.period = c.period AND s.original_name = 'v2.xlsx' "
        "WHERE c.pole_id = 'PTCE-001'",
    )
    assert received == [("acceptee", True)]
    (sid,) = q(home.live_db, "SELECT submission_id FROM submissions WHERE status = 'refusee'")[0]
    issues = q(home.live_db, "SELECT code FROM validation_issues WHERE submission_id = ?", sid)
    assert ("out-of-range",) in issues


def claim_by_hand(settings, ledger, seq: int, name: str, data: bytes) -> None:
    """What `ingest.claim` does for one file: archive it, then record its delivery."""
    sha = hashlib.sha256(data).hexdigest()
    archived = store(settings, data, sha, name)
    rec = {
        "seq": seq,
        "at": "2025-01-10T10:00:00+00:00",
        "folder": "PTCE-001",
        "name": name,
        "size": len(data),
        "sha256": sha,
        "archived_path": str(archived.relative_to(settings.home)),
    }
    ledger.delivery(rec, registered=True)


def test_failure_in_the_middle_of_a_flush_rolls_back_every_table(home, make_workbook):
    """Deliveries and submissions are inserted, old rows deleted, then the fault: nothing stays."""
    drop(home, "PTCE-001", "v1.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    cfg = load_config(home)
    faulty = home.with_(fault="error:load_before_commit")
    at = dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC)
    unit = UnitOfWork(faulty, cfg, Journal(faulty), RunReport(), at, feedback=False)
    try:
        unit.open()
        con, ledger = unit.gen.con, unit.ledger
        before = dump(con)
        for n, name in enumerate(["v2.xlsx", "v3.xlsx"]):
            claim_by_hand(
                home, ledger, 1000 + n, name, make_workbook(change=set_indicator("IND22", 500 + n))
            )
        pend = unit.decider.plan(cfg, [1000, 1001])
        results = unit.readvalidate.pending(cfg, pend, at)
        outcomes = unit.decider.decide(cfg, pend, results, at)
        assert [o.status for o in outcomes] == ["acceptee", "acceptee"]
        assert ledger.buffered_rows() > 50
        with pytest.raises(RuntimeError, match="fault injection"):
            unit.mirror.flush()
        assert dump(con) == before
    finally:
        unit.abort()
    assert not unit.gen.path.exists()


def test_failed_load_leaves_the_warehouse_as_it_was_then_next_run_finishes(home, make_workbook):
    drop(home, "PTCE-001", "v1.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    before = dumps(home.live_db)
    before_views = views(home.snapshot_db)
    drop(home, "PTCE-001", "v2.xlsx", make_workbook(change=set_indicator("IND22", 999)))
    drop(home, "PTCE-002", "a.xlsx", make_workbook("PTCE-002", 2024))
    report = run_ingest(home.with_(fault="error:load_before_commit"))
    assert report.errors and report.statuses["en_attente"] == 2
    after = dumps(home.live_db)
    for table in (*POLE_TABLES, "validation_issues", "audit", "period_versions", "campaigns"):
        assert after[table] == before[table], table
    assert views(home.snapshot_db) == before_views
    waiting = q(
        home.live_db,
        "SELECT original_name, status, attempts, last_error IS NOT NULL FROM submissions "
        "WHERE status = 'en_attente' ORDER BY 1",
    )
    assert waiting == [("a.xlsx", "en_attente", 1, True), ("v2.xlsx", "en_attente", 1, True)]
    old = {r[:3] for r in before["submissions"]}
    assert old <= {r[:3] for r in after["submissions"]}  # the accepted one untouched
    report = run_ingest(home)
    assert report.statuses["acceptee"] + report.statuses["acceptee_avec_avertissements"] == 2
    rows = q(home.live_db, "SELECT original_name, status FROM submissions ORDER BY 1")
    assert [r[1] for r in rows] == ["acceptee", "remplacee", "acceptee"]


def test_three_failed_runs_make_a_submission_en_erreur(home, make_workbook):
    drop(home, "PTCE-003", "c.xlsx", make_workbook("PTCE-003", 2024))
    broken = home.with_(fault="error:load_before_commit")
    for _ in range(3):
        run_ingest(broken)
    rows = q(home.live_db, "SELECT status, attempts, last_error FROM submissions")
    assert rows[0][:2] == ("en_erreur", 3) and "fault injection" in rows[0][2]
    assert q(home.snapshot_db, "SELECT status, attempts FROM submissions") == [("en_erreur", 3)]
    run_ingest(home)  # en_erreur is not retried by itself: `ptce reprocess --in-error` does it
    assert q(home.live_db, "SELECT status FROM submissions") == [("en_erreur",)]


ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    path = sys.argv[1]
    con = duckdb.connect(path, read_only=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "reconnect":
            con.close()
            con = duckdb.connect(path, read_only=True)
            print("ok", flush=True)
        elif cmd == "count":
            n = con.execute("SELECT count(*) FROM current_submissions").fetchone()[0]
            print(n, flush=True)
    """
)


def test_analyst_session_open_in_another_process_during_a_run(home, make_workbook):
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(home.snapshot_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:

        def ask(cmd: str) -> str:
            analyst.stdin.write(cmd + "\n")
            analyst.stdin.flush()
            return analyst.stdout.readline().strip()

        assert ask("count") == "1"
        drop(home, "PTCE-002", "b.xlsx", make_workbook("PTCE-002", 2024))
        report = run_ingest(home)
        assert not report.errors and report.new == 1
        assert ask("count") == "1"  # the open session keeps working on the old state
        assert ask("reconnect") == "ok"
        assert ask("count") == "2"
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=60)
    assert analyst.returncode == 0


def test_lineage_from_a_current_value_to_the_archived_cell(home, make_workbook):
    drop(home, "PTCE-004", "suivi 2024.xlsx", make_workbook("PTCE-004", 2024))
    run_ingest(home)
    rows = q(
        home.snapshot_db,
        "SELECT v.indicator_code, v.value, v.source_file, v.sheet, v.cell, s.archived_path, s.sha256 "
        "FROM current_indicator_values v JOIN submissions s USING (submission_id) "
        "WHERE v.pole_id = 'PTCE-004' AND v.value IS NOT NULL ORDER BY v.indicator_code",
    )
    assert len(rows) > 20
    code, value, source, sheet, cell, archived, sha = rows[5]
    assert source == "suivi 2024.xlsx"
    path = home.home / archived
    assert path.name == f"{sha}.xlsx"
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        assert float(book[sheet][cell].value) == value
        code_cell = book[sheet][f"A{cell[1:]}"].value
    finally:
        book.close()
    assert code_cell == code


def test_migration_upgrades_a_warehouse_of_the_previous_schema(home):
    home.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(home.live_db))
    assert migrate(con, upto=1) == [1]
    con.execute(
        "INSERT INTO deliveries VALUES (5, TIMESTAMPTZ '2025-01-10 10:00:00+00', 'PTCE-001', "
        "'a.xlsx', 10, 'abc', 'nouvelle', 5), (9, TIMESTAMPTZ '2025-02-01 10:00:00+00', "
        "'PTCE-001', 'a bis.xlsx', 10, 'abc', 'doublon', 5)"
    )
    con.execute(
        "INSERT INTO submissions (submission_id, sha256, inbox_folder, pole_id, period, status, "
        "original_name, archived_path, received_at) VALUES (5, 'abc', 'PTCE-001', 'PTCE-001', "
        "2024, 'acceptee', 'a.xlsx', 'warehouse/archive/abc.xlsx', TIMESTAMPTZ '2025-01-10 10:00:00+00')"
    )
    con.execute("INSERT INTO indicator_values VALUES (5, 'IND01', 12, NULL, 'Indicateurs', 'F7')")
    con.close()
    gen = Generation(home)
    gen.open()
    gen.commit()
    latest = max(v for v, _n, _s in _migrations())
    versions = [r[0] for r in q(home.live_db, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == list(range(1, latest + 1)) and latest >= 2
    assert q(home.live_db, "SELECT count(*) FROM audit") == [(0,)]  # 002 created it
    assert q(home.live_db, "SELECT count(*) FROM deliveries") == [(2,)]
    sub = q(home.live_db, "SELECT submission_id, status, last_delivery_id FROM submissions")
    assert sub == [(5, "acceptee", 9)]  # 003 backfilled from the deliveries
    assert q(home.live_db, "SELECT value, cell FROM current_indicator_values") == [(12.0, "F7")]


def test_same_bytes_refused_in_one_folder_accepted_in_the_right_one(home, make_workbook):
    data = make_workbook("PTCE-002", 2024)
    drop(home, "PTCE-001", "pour B.xlsx", data)
    run_ingest(home)
    drop(home, "PTCE-002", "pour B.xlsx", data)
    run_ingest(home)
    rows = q(
        home.live_db,
        "SELECT inbox_folder, sha256, status FROM submissions ORDER BY inbox_folder",
    )
    assert [(r[0], r[2]) for r in rows] == [("PTCE-001", "refusee"), ("PTCE-002", "acceptee")]
    assert rows[0][1] == rows[1][1]
    codes = q(home.live_db, "SELECT DISTINCT code FROM validation_issues")
    assert ("pole-folder-mismatch",) in codes
    assert q(home.live_db, "SELECT DISTINCT pole_id FROM current_indicator_values") == [
        ("PTCE-002",)
    ]


def test_personal_data_never_leaves_the_live_warehouse(home, make_workbook):
    def contact(data):
        data.identity["contact_nom"] = "Camille Zorglub"
        data.identity["contact_email"] = "camille.zorglub@example.org"

    drop(home, "PTCE-001", "a.xlsx", make_workbook(change=contact))
    run_ingest(home)
    live = q(home.live_db, "SELECT value FROM contacts ORDER BY 1")
    assert live == [("Camille Zorglub",), ("camille.zorglub@example.org",)]
    snap = duckdb.connect(str(home.snapshot_db), read_only=True)
    try:
        tables = [
            r[0]
            for r in snap.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        assert "contacts" not in tables
        for table in tables:
            text = (
                snap.execute(
                    f"SELECT string_agg(CAST(t AS VARCHAR), '|') FROM \"{table}\" t"
                ).fetchone()[0]
                or ""
            )
            assert "Zorglub" not in text, table
    finally:
        snap.close()
    parquet = sorted(home.parquet_dir.glob("*/*.parquet"))
    expected = {(v, str(p)) for v in SNAPSHOT_VIEWS for p in (2024, 2025)}  # 2025: a campaign
    assert {(p.parent.name, p.stem) for p in parquet} == expected
    mem = duckdb.connect()
    for path in parquet:
        sql = f"SELECT string_agg(CAST(t AS VARCHAR), '|') FROM read_parquet('{path}') t"
        assert "Zorglub" not in (mem.execute(sql).fetchone()[0] or ""), path.name
    assert b"Zorglub" not in home.snapshot_db.read_bytes()


def test_snapshot_refresh_patches_the_previous_one_exactly(home, make_workbook, caplog):
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2024))
    drop(home, "PTCE-002", "b.xlsx", make_workbook("PTCE-002", 2024))
    run_ingest(home)
    drop(home, "PTCE-001", "a2.xlsx", make_workbook(change=set_indicator("IND22", 77)))
    drop(
        home,
        "PTCE-003",
        "c.xlsx",
        make_workbook("PTCE-003", 2024, change=set_indicator("IND02", 140)),
    )
    with caplog.at_level(logging.DEBUG, logger="ptce_pipeline.store.snapshot"):
        run_ingest(home)
    assert [r.getMessage() for r in caplog.records] == ["snapshot: patched"]
    live = dumps(home.live_db)
    for table in PERSONAL_TABLES:  # contacts, the e-mails' outbox: live warehouse only
        live.pop(table)
    assert dumps(home.snapshot_db) == live


def test_a_new_version_upgrades_the_warehouse_even_with_nothing_new(home):
    """After installing a version with a new migration, the next run upgrades the live file and
    refreshes the snapshot, so analysts get the new views without waiting for a delivery."""
    home.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(home.live_db))
    migrate(con, upto=2)
    con.close()
    report = run_ingest(home)
    assert not report.nothing_new and not report.errors
    latest = max(v for v, _n, _s in _migrations())
    assert q(home.live_db, "SELECT max(version) FROM schema_migrations") == [(latest,)]
    assert q(home.snapshot_db, "SELECT count(*) FROM completeness WHERE period = 2025") == [(18,)]
    assert run_ingest(home).nothing_new
