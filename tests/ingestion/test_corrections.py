"""National-team corrections on real warehouses: their effect on `submissions`,
`current_indicator_values` and `completeness`, and their row in `audit`."""

from __future__ import annotations

import datetime as dt
import html
import json
from importlib import resources

import duckdb
import pytest
from helpers.workbooks import drop, q, set_indicator

from ptce_pipeline.catalogue.referentiel import load_referentiel
from ptce_pipeline.cli.parser import main
from ptce_pipeline.errors import NotFound
from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.publication.data import load_period


def sid(settings, name: str) -> int:
    return q(
        settings.live_db, "SELECT submission_id FROM submissions WHERE original_name = ?", name
    )[0][0]


def status_of(settings, name: str) -> str:
    return q(settings.live_db, "SELECT status FROM submissions WHERE original_name = ?", name)[0][0]


def ind22(settings, pole="PTCE-001", period=2024):
    return q(
        settings.snapshot_db,
        "SELECT value, source_file FROM current_indicator_values "
        "WHERE pole_id = ? AND period = ? AND indicator_code = 'IND22'",
        pole,
        period,
    )


def completeness(settings, pole="PTCE-001", period=2024):
    return q(
        settings.snapshot_db,
        "SELECT status, submission_id FROM completeness WHERE pole_id = ? AND period = ?",
        pole,
        period,
    )[0]


def audit(settings):
    return q(
        settings.live_db,
        "SELECT action, submission_id, period, reason, by_user, details FROM audit ORDER BY audit_id",
    )


def tighter_referentiel(settings, code: str, bound: int) -> None:
    text = resources.files("ptce_pipeline.schemas").joinpath("referentiel.toml").read_text("utf-8")
    head, sep, rest = text.partition(f'code = "{code}"\n')
    block, nxt, tail = rest.partition("\n[[")
    lines = [line for line in block.splitlines() if not line.startswith("max =")]
    (settings.home / "referentiel.toml").write_text(
        head + sep + "\n".join([*lines, f"max = {bound}"]) + nxt + tail, "utf-8"
    )


@pytest.fixture
def two_versions(home, make_workbook):
    drop(home, "PTCE-001", "v1.xlsx", make_workbook(change=set_indicator("IND22", 30)))
    run_ingest(home)
    drop(home, "PTCE-001", "v2.xlsx", make_workbook(change=set_indicator("IND22", 45)))
    run_ingest(home)
    return home


def test_withdraw_reinstates_the_previous_accepted_version(two_versions, capsys):
    home = two_versions
    assert ind22(home) == [(45.0, "v2.xlsx")]
    v1, v2 = sid(home, "v1.xlsx"), sid(home, "v2.xlsx")
    before = dt.datetime.now(dt.UTC)
    code = main(
        [
            "withdraw",
            str(v2),
            "--reason",
            "chiffres erronés",
            "--by",
            "Claire",
            "--home",
            str(home.home),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"Dépôt n° {v2} (PTCE-001, 2024, « v2.xlsx ») retiré." in out
    assert f"Le dépôt n° {v1} (« v1.xlsx ») redevient la version en vigueur." in out
    assert (status_of(home, "v1.xlsx"), status_of(home, "v2.xlsx")) == ("acceptee", "retiree")
    assert ind22(home) == [(30.0, "v1.xlsx")]
    assert completeness(home) == ("acceptee", v1)
    (row,) = audit(home)
    assert row[:5] == ("withdraw", v2, 2024, "chiffres erronés", "Claire")
    assert json.loads(row[5]) == {"before": "acceptee", "reinstated": v1}
    done_at = q(home.live_db, "SELECT done_at FROM audit")[0][0]
    assert before <= done_at <= dt.datetime.now(dt.UTC)
    journal = [json.loads(x) for x in home.journal_path.read_text("utf-8").splitlines()]
    assert journal[-1]["type"] == "withdraw" and journal[-1]["by"] == "Claire"


def test_withdraw_the_only_version_leaves_the_pole_without_data(home, make_workbook, monkeypatch):
    drop(home, "PTCE-001", "v1.xlsx", make_workbook())
    run_ingest(home)
    monkeypatch.setenv("PTCE_USER", "equipe-nationale")
    assert (
        main(["withdraw", str(sid(home, "v1.xlsx")), "--reason", "test", "--home", str(home.home)])
        == 0
    )
    assert ind22(home) == []
    assert completeness(home) == ("retiree", sid(home, "v1.xlsx"))
    assert audit(home)[0][4] == "equipe-nationale"  # no --by: the system user
    # the same bytes dropped again stay withdrawn, and the receipt says why
    drop(home, "PTCE-001", "v1 encore.xlsx", make_workbook())
    run_ingest(home)
    assert status_of(home, "v1.xlsx") == "retiree"
    receipt = next((home.inbox / "PTCE-001" / "retours").glob("*encore_recu.html"))
    assert "retiré par l'équipe nationale" in html.unescape(receipt.read_text("utf-8"))
    with pytest.raises(NotFound, match="déjà retiré"):
        corrections.withdraw(home, sid(home, "v1.xlsx"), reason="encore", by="x")
    with pytest.raises(NotFound, match="retiré par l'équipe nationale"):
        corrections.reprocess(home, sid=sid(home, "v1.xlsx"), reason="x", by="x")
    with pytest.raises(NotFound, match="Aucun dépôt n° 9999"):
        corrections.withdraw(home, 9999, reason="x", by="x")


def test_reprocess_one_submission_after_a_tighter_bound(two_versions, capsys):
    home = two_versions
    tighter_referentiel(home, "IND22", 40)  # v2 (45) is now out of range, v1 (30) is not
    v1, v2 = sid(home, "v1.xlsx"), sid(home, "v2.xlsx")
    code = main(
        [
            "reprocess",
            str(v2),
            "--reason",
            "borne resserrée",
            "--by",
            "Ana",
            "--home",
            str(home.home),
        ]
    )
    assert code == 0
    assert f"Dépôt n° {v2} : acceptée → refusée." in capsys.readouterr().out
    assert (status_of(home, "v1.xlsx"), status_of(home, "v2.xlsx")) == ("acceptee", "refusee")
    assert ind22(home) == [(30.0, "v1.xlsx")]  # as if v2 had just arrived and been refused
    assert completeness(home) == ("acceptee", v1)
    issues = q(home.live_db, "SELECT cell, code FROM validation_issues WHERE submission_id = ?", v2)
    cell = q(
        home.snapshot_db, "SELECT cell FROM current_indicator_values WHERE indicator_code = 'IND22'"
    )
    assert (cell[0][0], "out-of-range") in issues
    (row,) = audit(home)
    assert row[:5] == ("reprocess", v2, 2024, "borne resserrée", "Ana")
    assert json.loads(row[5]) == {"before": "acceptee", "after": "refusee"}
    versions = q(home.live_db, "SELECT count(DISTINCT referentiel_sha256) FROM submissions")
    assert versions == [(2,)]  # each submission records the référentiel it was judged with
    # the pole gets a new receipt, as if the file had just arrived; in the same second as the
    # first decision the name is taken: the new one carries a suffix (`_v2_2_recu.html`)
    receipts = list((home.inbox / "PTCE-001" / "retours").glob("*_v2*_recu.html"))
    assert len(receipts) == 2
    newest = max(receipts, key=lambda p: p.stat().st_mtime_ns)
    text = html.unescape(newest.read_text("utf-8"))
    assert '<p class="status">Refusé</p>' in text and "validé de nouveau" in text.lower()


def test_reprocess_a_pole_period_and_an_older_file_never_overrides_a_newer_one(two_versions):
    home = two_versions
    tighter_referentiel(home, "IND22", 40)
    corrections.reprocess(home, pole="PTCE-001", period=2024, reason="borne", by="Ana")
    assert (status_of(home, "v1.xlsx"), status_of(home, "v2.xlsx")) == ("acceptee", "refusee")
    (home.home / "referentiel.toml").unlink()  # back to the packaged bound: both acceptable
    corrections.reprocess(home, sid=sid(home, "v1.xlsx"), reason="retour", by="Ana")
    assert status_of(home, "v1.xlsx") == "acceptee"
    corrections.reprocess(home, sid=sid(home, "v2.xlsx"), reason="retour", by="Ana")
    # v2 is the pole's latest drop: accepted again, it takes over
    assert (status_of(home, "v1.xlsx"), status_of(home, "v2.xlsx")) == ("remplacee", "acceptee")
    corrections.reprocess(home, sid=sid(home, "v1.xlsx"), reason="encore", by="Ana")
    # v1 is older: accepted, but v2 stays in force
    assert (status_of(home, "v1.xlsx"), status_of(home, "v2.xlsx")) == ("remplacee", "acceptee")
    assert ind22(home) == [(45.0, "v2.xlsx")]
    assert [r[0] for r in audit(home)] == ["reprocess"] * 5


def test_reprocess_in_error_finishes_what_our_failures_left(home, make_workbook, capsys):
    drop(home, "PTCE-002", "b.xlsx", make_workbook("PTCE-002", 2024))
    broken = home.with_(fault="error:load_before_commit")
    for _ in range(3):
        run_ingest(broken)
    assert status_of(home, "b.xlsx") == "en_erreur"
    assert completeness(home, "PTCE-002") == ("manquante", None)
    assert main(["reprocess", "--in-error", "--home", str(home.home)]) == 0
    assert "en erreur → acceptée" in capsys.readouterr().out
    assert completeness(home, "PTCE-002") == ("acceptee", sid(home, "b.xlsx"))
    assert q(home.live_db, "SELECT attempts, last_error FROM submissions") == [(3, None)]
    assert main(["reprocess", "--in-error", "--home", str(home.home)]) == 0
    assert "Aucun dépôt à retraiter." in capsys.readouterr().out


def test_a_closed_campaign_holds_new_files_until_reopened(two_versions, make_workbook, capsys):
    home = two_versions
    v2 = sid(home, "v2.xlsx")
    code = main(
        [
            "campaign",
            "close",
            "2024",
            "--reason",
            "clôture",
            "--by",
            "Lou",
            "--home",
            str(home.home),
        ]
    )
    assert code == 0 and "Campagne 2024 close" in capsys.readouterr().out
    assert q(home.snapshot_db, "SELECT closed, closed_by FROM campaigns WHERE period = 2024") == [
        (True, "Lou")
    ]
    drop(home, "PTCE-001", "v3.xlsx", make_workbook(change=set_indicator("IND22", 60)))
    drop(home, "PTCE-002", "b.xlsx", make_workbook("PTCE-002", 2024))
    report = run_ingest(home)
    assert report.statuses["retenue"] == 2
    assert status_of(home, "v3.xlsx") == "retenue"
    assert ind22(home) == [(45.0, "v2.xlsx")]  # current data unchanged
    assert completeness(home) == ("acceptee", v2)
    assert completeness(home, "PTCE-002") == ("retenue", sid(home, "b.xlsx"))
    receipt = html.unescape(
        next((home.inbox / "PTCE-001" / "retours").glob("*_v3_recu.html")).read_text("utf-8")
    )
    assert "La campagne 2024 est close" in receipt
    # published figures state which campaigns were closed
    con = duckdb.connect(str(home.snapshot_db), read_only=True)
    try:
        assert load_period(con, load_referentiel(), 2024).closed_campaigns == [2024]
    finally:
        con.close()
    assert main(["campaign", "close", "2024", "--home", str(home.home)]) == 0
    assert "déjà close" in capsys.readouterr().out
    assert main(["campaign", "reopen", "2024", "--by", "Lou", "--home", str(home.home)]) == 0
    assert "2 dépôt(s) retenu(s) appliqué(s)" in capsys.readouterr().out
    assert (status_of(home, "v2.xlsx"), status_of(home, "v3.xlsx")) == ("remplacee", "acceptee")
    assert ind22(home) == [(60.0, "v3.xlsx")]
    assert completeness(home, "PTCE-002")[0] == "acceptee"
    rows = audit(home)
    assert [r[0] for r in rows] == ["campaign_close", "campaign_reopen"]
    assert rows[1][2] == 2024 and rows[1][4] == "Lou"
    assert json.loads(rows[1][5]) == {"applied": [sid(home, "v3.xlsx"), sid(home, "b.xlsx")]}
    con = duckdb.connect(str(home.snapshot_db), read_only=True)
    try:
        assert load_period(con, load_referentiel(), 2024).closed_campaigns == []
    finally:
        con.close()


def test_a_correction_that_changes_nothing_writes_nothing(two_versions):
    home = two_versions
    corrections.campaign(home, 2024, close=False, reason=None, by="x")  # already open
    stamp = home.live_db.stat().st_mtime_ns, home.journal_path.stat().st_size
    result = corrections.campaign(home, 2024, close=False, reason=None, by="x")
    assert result.lines == ["La campagne 2024 est déjà ouverte."]
    assert (home.live_db.stat().st_mtime_ns, home.journal_path.stat().st_size) == stamp
