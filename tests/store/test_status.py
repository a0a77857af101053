"""`ptce status [--period YEAR] [--json]`: completeness from the analysts' snapshot."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers.review import in_force, sign_off
from helpers.workbooks import drop, set_indicator

from ptce_pipeline.cli.parser import main
from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.review import decide
from ptce_pipeline.ingestion.run import run_ingest


def status(settings, *args, capsys):
    code = main(["status", "--home", str(settings.home), *args])
    return code, capsys.readouterr().out


def test_status_json_has_exactly_the_documented_shape(home, make_workbook, capsys):
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2025))
    drop(
        home,
        "PTCE-002",
        "b.xlsx",
        make_workbook("PTCE-002", 2025, change=set_indicator("IND02", 140)),
    )
    drop(home, "PTCE-003", "c.xlsx", make_workbook("PTCE-003", 2024))
    run_ingest(home)
    code, out = status(home, "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["period", "expected", "counts", "late", "poles", "review_counts"]
    assert data["period"] == 2025  # the latest period with data
    assert data["expected"] == 18 == sum(data["counts"].values()) == len(data["poles"])
    assert data["counts"] == {"acceptee": 1, "refusee": 1, "manquante": 16}
    assert data["late"] == 0
    assert all(
        list(p) == ["pole_id", "pole_name", "status", "late", "last_received_at", "review_state"]
        for p in data["poles"]
    )
    assert data["review_counts"] == {"a_revoir": 1, "a_corriger": 0, "validee": 0}
    assert [p["review_state"] for p in data["poles"][:3]] == ["a_revoir", None, None]
    first = data["poles"][0]
    assert first["pole_id"] == "PTCE-001" and first["status"] == "acceptee"
    assert first["last_received_at"].startswith("20")
    assert data["poles"][2]["last_received_at"] is None
    code, out = status(home, "--json", "--period", "2024", capsys=capsys)
    assert json.loads(out)["counts"] == {"acceptee": 1, "manquante": 17}


def test_status_text_shows_submissions_in_error_with_their_reason(home, make_workbook, capsys):
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2025))
    run_ingest(home)
    drop(home, "PTCE-004", "d.xlsx", make_workbook("PTCE-004", 2025))
    broken = home.with_(fault="error:load_before_commit")
    for _ in range(3):
        run_ingest(broken)
    code, out = status(home, capsys=capsys)
    assert code == 0
    assert out.startswith("Période 2025, date limite 31/03/2099 : 18 pôles attendus.")
    assert "  acceptée : 1" in out and "  manquante : 17" in out
    line = next(x for x in out.splitlines() if "d.xlsx" in x)
    assert "en erreur après 3 essai(s)" in line and "fault injection" in line
    assert "ptce reprocess --in-error" in out


def test_status_never_waits_for_the_live_warehouse(home, make_workbook, capsys):
    """Someone holds the live file open for writing: status still answers from the snapshot."""
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2025))
    run_ingest(home)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); sys.stdin.read()",
            str(home.live_db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        code, out = status(home, "--json", capsys=capsys)
        assert code == 0 and json.loads(out)["counts"]["acceptee"] == 1
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_status_before_any_run(home, capsys):
    home.home.mkdir(exist_ok=True)
    assert main(["init", "--home", str(home.home)]) == 0
    capsys.readouterr()
    code, out = status(home, capsys=capsys)
    assert code == 0 and "Aucune période" in out


def test_status_shows_the_review_state_of_each_declaration(home, make_workbook, capsys):
    for pid in ("PTCE-001", "PTCE-002", "PTCE-003", "PTCE-004"):
        drop(home, pid, f"{pid}.xlsx", make_workbook(pid, 2025))
    run_ingest(home)
    first, second, third, _fourth = in_force(home, 2025)
    sign_off(home, [first, second])
    decide(home, [third], "a_corriger", comment="Vérifiez IND05", by="relecture")
    code, out = status(home, "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["review_counts"] == {"a_revoir": 1, "a_corriger": 1, "validee": 2}
    states = {p["pole_id"]: p["review_state"] for p in data["poles"]}
    assert [states[f"PTCE-00{i}"] for i in range(1, 6)] == [
        "validee",
        "validee",
        "a_corriger",
        "a_revoir",
        None,  # missing: no declaration to review
    ]
    _, out = status(home, capsys=capsys)
    assert "  relecture des 4 déclarations en vigueur : à relire 1, à corriger 1, validée 2" in out
    assert "les chiffres publics ne portent que sur les déclarations validées" in out
    line = next(x for x in out.splitlines() if x.startswith("  PTCE-003"))
    assert "relecture : à corriger" in line
    # once the campaign is closed, status says what the final figures leave out
    corrections.campaign(home, 2025, close=True, reason=None, by="equipe")
    _, out = status(home, capsys=capsys)
    assert "chiffres définitifs sur 2 déclaration(s) ; 2 non validée(s) exclue(s)" in out
