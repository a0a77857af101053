"""Recovery: the archive and its journal rebuild a warehouse logically identical to the live one;
a warehouse file that cannot be opened is detected at start-up and `rebuild` recovers it."""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
from importlib import resources

import duckdb
import pytest
from helpers.workbooks import drop, filled, make_home, q, workbook

from ptce_pipeline.cli.parser import main
from ptce_pipeline.errors import WarehouseCorrupt
from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store.journal import config_file
from ptce_pipeline.store.snapshot import SNAPSHOT_VIEWS, publish_snapshot
from ptce_pipeline.store.warehouse import connect, dump


def sids(settings) -> dict[str, int]:
    return dict(q(settings.live_db, "SELECT original_name, submission_id FROM submissions"))


def dumps(path):
    con = connect(path, read_only=True)
    try:
        return dump(con)
    finally:
        con.close()


def tighter_referentiel(settings, code: str, bound: int) -> None:
    """The home's own référentiel: the packaged one with a tighter upper bound on `code`."""
    text = resources.files("ptce_pipeline.schemas").joinpath("referentiel.toml").read_text("utf-8")
    head, sep, rest = text.partition(f'code = "{code}"\n')
    block, nxt, tail = rest.partition("\n[[")
    lines = [line for line in block.splitlines() if not line.startswith("max =")]
    block = "\n".join([*lines, f"max = {bound}"])
    (settings.home / "referentiel.toml").write_text(head + sep + block + nxt + tail, "utf-8")


def set_indicator(code, value, **others):
    def change(data):
        data.indicators[code] = value
        data.indicators.update(others)

    return change


@pytest.fixture(scope="module")
def history_template(tmp_path_factory, ref):
    """A live warehouse after deliveries, a duplicate, a replacement, a refusal, a return to an
    older version, a withdrawal, a référentiel change with a reprocessing, and a campaign closed
    (a file held) then reopened."""
    home = make_home(tmp_path_factory.mktemp("history") / "home")

    def make_workbook(pole_id, period, *, change=None):
        data = copy.deepcopy(filled(ref, pole_id, period))
        if change is not None:
            change(data)
        return workbook(ref, data)

    v1 = make_workbook("PTCE-001", 2024)
    drop(home, "PTCE-001", "v1.xlsx", v1)
    drop(home, "PTCE-002", "a.xlsx", make_workbook("PTCE-002", 2024))
    drop(home, "PTCE-003", "c.xlsx", make_workbook("PTCE-003", 2024))
    drop(home, "", "perdu.xlsx", make_workbook("PTCE-004", 2024))
    run_ingest(home)
    drop(
        home,
        "PTCE-001",
        "v2.xlsx",
        make_workbook("PTCE-001", 2024, change=set_indicator("IND22", 999)),
    )
    drop(
        home,
        "PTCE-002",
        "b.xlsx",
        make_workbook("PTCE-002", 2024, change=set_indicator("IND02", 140)),
    )
    drop(home, "PTCE-002", "a (2).xlsx", make_workbook("PTCE-002", 2024))
    drop(
        home,
        "PTCE-001",
        "2025.xlsx",
        make_workbook("PTCE-001", 2025, change=set_indicator("IND22", 50_000)),
    )
    run_ingest(home)
    drop(home, "PTCE-001", "v1 bis.xlsx", v1)  # the pole goes back to v1
    run_ingest(home)
    ids = sids(home)
    corrections.withdraw(home, ids["v1.xlsx"], reason="chiffres faux", by="equipe")
    tighter_referentiel(home, "IND22", 100)
    corrections.reprocess(home, pole="PTCE-003", period=2024, reason="borne resserrée", by="equipe")
    drop(
        home,
        "PTCE-004",
        "d.xlsx",
        make_workbook("PTCE-004", 2024, change=set_indicator("IND22", 12, IND23=1, IND24=1)),
    )
    drop(
        home,
        "PTCE-002",
        "b encore.xlsx",
        make_workbook("PTCE-002", 2024, change=set_indicator("IND02", 140)),
    )
    run_ingest(home)
    corrections.campaign(home, 2024, close=True, reason="fin de campagne", by="equipe")
    drop(
        home,
        "PTCE-005",
        "e.xlsx",
        make_workbook("PTCE-005", 2024, change=set_indicator("IND22", 40, IND23=1, IND24=1)),
    )
    run_ingest(home)
    corrections.campaign(home, 2024, close=False, reason="correction", by="equipe")
    return home


@pytest.fixture
def history(history_template, tmp_path):
    """A copy of the history's home for one test."""
    shutil.copytree(history_template.home, tmp_path / "home", symlinks=True)
    return make_home(tmp_path / "home")


def test_history_did_what_it_says(history):
    rows = dict(q(history.live_db, "SELECT original_name, status FROM submissions"))
    assert rows["v1.xlsx"] == "retiree"
    assert rows["v2.xlsx"].startswith("acceptee")  # reinstated by the withdrawal
    assert rows["b.xlsx"] == "refusee"
    assert rows["c.xlsx"] == "refusee"  # reprocessed under the tighter bound
    assert rows["e.xlsx"].startswith("acceptee")  # held while closed, applied at reopening
    assert rows["2025.xlsx"].startswith("acceptee")
    actions = sorted(r[0] for r in q(history.live_db, "SELECT action FROM audit"))
    assert actions == ["campaign_close", "campaign_reopen", "reinstate", "reprocess", "withdraw"]
    prev = q(
        history.live_db,
        "SELECT previous_submission_id FROM submissions WHERE original_name = '2025.xlsx'",
    )
    assert prev == [(sids(history)["v1.xlsx"],)]  # the version in force when 2025 arrived
    assert q(history.live_db, "SELECT count(*) FROM referentiel_versions") == [(2,)]
    assert q(
        history.live_db, "SELECT outcome FROM deliveries WHERE original_name = 'perdu.xlsx'"
    ) == [("expediteur_inconnu",)]


def test_incremental_snapshot_equals_the_live_warehouse_without_personal_data(history, caplog):
    """Every run and correction of the history refreshed the snapshot incrementally."""
    live = dumps(history.live_db)
    assert live.pop("contacts")
    live.pop("outbox")  # the e-mails' outbox: personal data too (empty here: no mail set up)
    assert dumps(history.snapshot_db) == live
    with caplog.at_level(logging.DEBUG, logger="ptce_pipeline.store.snapshot"):
        publish_snapshot(history)
        publish_snapshot(history, full=True)
    assert [r.getMessage() for r in caplog.records] == ["snapshot: patched", "snapshot: copied"]
    assert dumps(history.snapshot_db) == live
    mem = duckdb.connect()
    snap = duckdb.connect(str(history.snapshot_db), read_only=True)
    try:
        for view in SNAPSHOT_VIEWS:
            for period in (2024, 2025):
                path = history.parquet_dir / view / f"{period}.parquet"
                got = mem.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()
                want = snap.execute(
                    f"SELECT * FROM {view} WHERE period = ? ORDER BY ALL", [period]
                ).fetchall()
                assert got == want, (view, period)
    finally:
        snap.close()


def test_rebuild_to_a_folder_is_logically_identical(history, tmp_path):
    result = corrections.rebuild(history, tmp_path / "rebuilt")
    live, rebuilt = dumps(history.live_db), dumps(tmp_path / "rebuilt" / "ptce.duckdb")
    assert set(live) == set(rebuilt)
    for table in live:
        assert rebuilt[table] == live[table], table
    assert "Identique à l'entrepôt vivant." in result.lines
    assert sum(len(rows) for rows in live.values()) > 500


def test_rebuild_in_place_keeps_the_old_file_and_refreshes_the_snapshot(history):
    before = dumps(history.live_db)
    snapshot_before = history.snapshot_db.stat().st_ino
    result = corrections.rebuild(history)
    assert dumps(history.live_db) == before
    assert "L'entrepôt vivant était déjà identique." in result.lines
    kept = list(history.warehouse_dir.glob("ptce.avant-reconstruction.*.duckdb"))
    assert len(kept) == 1 and dumps(kept[0]) == before
    assert history.snapshot_db.stat().st_ino != snapshot_before


def corrupt_header(path) -> None:
    with open(path, "r+b") as fh:
        fh.seek(0)
        fh.write(os.urandom(4096))


def foreign_wal(path) -> None:
    """Leave a real write-ahead log next to the file (a program killed while writing into it),
    then damage one byte of it so DuckDB cannot replay it (a torn tail would just be skipped)."""
    code = (
        "import duckdb, os, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute(\"SET checkpoint_threshold = '1GB'\")\n"
        "con.execute(\"INSERT INTO meta VALUES ('intrus', 'x')\")\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    wal = path.with_name(path.name + ".wal")
    data = wal.read_bytes()
    assert len(data) > 60
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    wal.write_bytes(bytes(damaged))


@pytest.mark.parametrize("damage", [corrupt_header, foreign_wal], ids=["corrupt", "bad-wal"])
def test_unopenable_warehouse_detected_at_start_up_and_rebuilt(history, make_workbook, damage):
    before = dumps(history.live_db)
    damage(history.live_db)
    drop(history, "PTCE-006", "f.xlsx", make_workbook("PTCE-006", 2024))
    with pytest.raises(WarehouseCorrupt) as exc:
        run_ingest(history)
    message = str(exc.value)
    assert "ptce rebuild" in message and "ne peut pas être ouvert" in message
    assert (history.inbox / "PTCE-006" / "f.xlsx").exists()  # nothing claimed
    corrections.rebuild(history)
    assert dumps(history.live_db) == before
    report = run_ingest(history)  # back to normal
    assert report.new == 1 and not report.errors


def test_restore_from_a_backup_of_the_archive(history, tmp_path, capsys):
    """docs/exploitation.md, "Sauvegarde et restauration": a fresh home, the backed-up archive
    and configuration files, `ptce init` then `ptce rebuild` give back the same warehouse."""
    fresh = tmp_path / "restored"
    fresh.mkdir()
    for name in ("poles.csv", "campagnes.csv", "referentiel.toml"):
        shutil.copy(history.home / name, fresh / name)
    assert main(["init", "--home", str(fresh)]) == 0
    shutil.copytree(history.archive_dir, fresh / "warehouse" / "archive", dirs_exist_ok=True)
    assert main(["rebuild", "--home", str(fresh)]) == 0
    assert "Entrepôt reconstruit depuis l'archive" in capsys.readouterr().out
    restored = make_home(fresh)
    assert dumps(restored.live_db) == dumps(history.live_db)
    assert (fresh / "warehouse" / "ptce_lecture.duckdb").exists()
    assert main(["rebuild", "--to", str(tmp_path / "verification"), "--home", str(fresh)]) == 0
    assert "Identique à l'entrepôt vivant." in capsys.readouterr().out


def test_every_decision_records_the_versions_in_force_and_they_are_archived(history):
    records = [json.loads(x) for x in history.journal_path.read_text("utf-8").splitlines()]
    decisions = [r for r in records if r["type"] == "decision"]
    assert len(decisions) >= 12
    kinds = {"referentiel": "referentiel", "poles": "poles", "campagnes": "campagnes"}
    for rec in decisions + [r for r in records if r["type"] in ("reprocess", "campaign_close")]:
        for key, kind in kinds.items():
            sha = rec["versions"][key]
            assert config_file(history, kind, sha) is not None, (rec["seq"], key)
    used = {r["versions"]["referentiel"] for r in decisions}
    assert len(used) == 2  # the packaged référentiel, then the home's tighter one


def test_a_correction_journaled_but_interrupted_is_applied_by_the_next_run(history):
    """The journal is written before the live warehouse is touched: a crash between the two
    (killed just before the new warehouse replaces the live one) loses nothing."""
    sid = sids(history)["v2.xlsx"]
    before = dumps(history.live_db)
    env = {**os.environ, "PTCE_FAULT": "kill:before_swap", "PTCE_HOME": str(history.home)}
    cmd = [sys.executable, "-m", "ptce_pipeline.cli.parser", "withdraw", str(sid), "--reason", "x"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == -9
    last = json.loads(history.journal_path.read_text("utf-8").splitlines()[-1])
    assert (last["type"], last["submission"]) == ("withdraw", sid)
    assert dumps(history.live_db) == before  # the live warehouse was not touched
    report = run_ingest(history)
    assert report.recovered >= 1
    assert (
        dict(q(history.live_db, "SELECT original_name, status FROM submissions"))["v2.xlsx"]
        == "retiree"
    )
    assert q(
        history.live_db,
        "SELECT action FROM audit WHERE submission_id = ? AND action = 'withdraw'",
        sid,
    )
    rebuilt = history.home / "verification"
    corrections.rebuild(history, rebuilt)
    assert dumps(rebuilt / "ptce.duckdb") == dumps(history.live_db)


def test_rebuild_after_our_own_failures_matches_the_live_warehouse(home, make_workbook, tmp_path):
    """Failure records replay like the live runs did: en_attente, attempts, then the retry."""
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    drop(
        home,
        "PTCE-001",
        "a2.xlsx",
        make_workbook("PTCE-001", 2024, change=set_indicator("IND22", 70)),
    )
    drop(home, "PTCE-002", "b.xlsx", make_workbook("PTCE-002", 2024))
    broken = home.with_(fault="error:load_before_commit")
    run_ingest(broken)
    run_ingest(broken)
    assert q(
        home.live_db, "SELECT DISTINCT attempts FROM submissions WHERE status = 'en_attente'"
    ) == [(2,)]
    run_ingest(home)
    assert q(home.live_db, "SELECT count(*) FROM submissions WHERE status = 'en_attente'") == [(0,)]
    corrections.rebuild(home, tmp_path / "rebuilt")
    assert dumps(tmp_path / "rebuilt" / "ptce.duckdb") == dumps(home.live_db)
