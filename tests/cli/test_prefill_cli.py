"""`ptce template --prefill` and `ptce campaign prepare` in real subprocesses: French output,
exit 2 for a usage mistake, exit 3 while another run holds the warehouse (nothing written)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers.workbooks import drop, filled, make_home, workbook

from ptce_pipeline.ingestion.prepare import prefilled_workbook
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store.lock import warehouse_lock

NOW = "2026-01-15T10:00:00"


def ptce(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTCE_")}
    return subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", *args],
        capture_output=True,
        text=True,
        env={**env, "PTCE_NOW": NOW, "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    settings = make_home(tmp_path_factory.mktemp("cli") / "home", PTCE_NOW=NOW)
    drop(settings, "PTCE-001", "suivi.xlsx", workbook(ref, filled(ref, "PTCE-001", 2024)))
    with warehouse_lock(settings.lock_path):
        run_ingest(settings, settle=0)
    return settings


def test_template_prefill_writes_the_pole_workbook_from_its_earlier_declaration(home, tmp_path):
    out = tmp_path / "suivi.xlsx"
    res = ptce(
        "template", "-o", str(out), "--pole", "PTCE-001", "--period", "2025", "--prefill",
        "--home", str(home.home),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].startswith("Pré-rempli depuis la déclaration 2024 en vigueur")
    assert out.read_bytes() == prefilled_workbook(home, "PTCE-001", 2025)[0]
    res = ptce(
        "template", "-o", str(out), "--pole", "PTCE-002", "--period", "2025", "--prefill",
        "--home", str(home.home),
    )  # fmt: skip
    assert res.returncode == 0 and "modèle vierge" in res.stdout


def test_template_prefill_needs_a_pole_and_a_period(home, tmp_path):
    res = ptce("template", "-o", str(tmp_path / "x.xlsx"), "--prefill", "--home", str(home.home))
    assert res.returncode == 2
    assert res.stderr.strip() == "Erreur : --prefill demande --pole et --period."


def test_both_verbs_exit_3_and_write_nothing_while_a_run_holds_the_warehouse(home, tmp_path):
    campaigns = home.campaigns_path.read_bytes()
    out = tmp_path / "suivi.xlsx"
    with warehouse_lock(home.lock_path, what="ptce ingest"):
        prepare = ptce("campaign", "prepare", "2026", "--home", str(home.home))
        template = ptce(
            "template", "-o", str(out), "--pole", "PTCE-001", "--period", "2026", "--prefill",
            "--home", str(home.home),
        )  # fmt: skip
    for res in (prepare, template):
        assert res.returncode == 3, res.stderr
        assert res.stdout == ""
        assert res.stderr.startswith(
            f"Occupé : Une autre exécution tient déjà l'entrepôt (processus {os.getpid()}, "
            "ptce ingest"
        )
    assert home.campaigns_path.read_bytes() == campaigns
    assert not list(home.inbox.glob("*/retours/modele_2026*")) and not out.exists()


def test_campaign_prepare_says_what_it_did(home):
    res = ptce("campaign", "prepare", "2026", "--deadline", "2027-04-30", "--home", str(home.home))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "Campagne 2026 ajoutée à campagnes.csv (date limite 30/04/2027)."
    assert lines[1].startswith("Classeurs préparés : 18 sur 18 pôles attendus (pré-remplis 1, ")
    assert "  PTCE-001 : pré-rempli depuis la déclaration 2024" in lines
    assert home.campaigns_path.read_text(encoding="utf-8").endswith("2026,2027-04-30\n")
    res = ptce("campaign", "prepare", "2026", "--deadline", "2027-05-31", "--home", str(home.home))
    assert res.returncode == 2 and "a déjà la date limite 2027-04-30" in res.stderr
