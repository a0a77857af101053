"""`ptce demo` as a trainer first meets it, in real subprocesses on the session's Prefect
server: French labels only (codes in `--json`), campaigns still open on the demo's day (no
file late), and what a second demo does — exactly what the README says."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import pytest
from helpers.procs import Procs, env_for, harness_url, query

from ptce_pipeline.config import load_settings

NOW = "2026-11-20T10:00:00"
# vocabulary codes (docs/conventions.md) that are not the French word people should read
CODES = (
    "acceptee",
    "acceptee_avec_avertissements",
    "refusee",
    "remplacee",
    "retiree",
    "en_attente",
    "en_erreur",
    "expediteur_inconnu",
    "ecartee",
)
A_CODE = re.compile(r"\b(?:" + "|".join(CODES) + r")\b")


def retours(home) -> dict[str, set[str]]:
    files = [p.name for p in (home / "inbox").glob("*/retours/*")]
    return {
        "recu": {n for n in files if n.endswith("_recu.html")},
        "annote": {n for n in files if n.endswith("_annote.xlsx")},
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prefect_harness):
    """Two demos in the same home, and the readers' verbs between them."""
    home = tmp_path_factory.mktemp("demo") / "ptce-demo"
    settings = load_settings({}, home=home)
    env = env_for(settings, api_url=harness_url(), PTCE_NOW=NOW)
    procs = Procs()
    try:
        runs = {"demo": procs.run("demo", "--home", str(home), env=env)}
        for name, args in {
            "status": ["status"],
            "status 2024": ["status", "--period", "2024"],
            "status --json": ["status", "--json"],
        }.items():
            runs[name] = procs.run(*args, "--home", str(home), env=env)
        first = retours(home)
        submissions = query(settings.live_db, "SELECT count(*) FROM submissions")
        runs["demo again"] = procs.run("demo", "--home", str(home), env=env)
        second = retours(home)
    finally:
        procs.close()
    return settings, runs, first, second, submissions


def test_terminal_output_shows_french_labels_and_json_keeps_the_codes(demo):
    _settings, runs, *_ = demo
    for name in ("demo", "status", "status 2024", "demo again"):
        assert runs[name].code == 0, runs[name]
        assert not A_CODE.findall(runs[name].out), (name, runs[name].out)
    assert "acceptée avec avertissements" in runs["status"].out
    assert "Complétude 2025 : 18 pôles attendus (acceptée 15, " in runs["demo"].out
    data = json.loads(runs["status --json"].out)
    assert {p["status"] for p in data["poles"]} <= set(CODES)
    assert "acceptee" in data["counts"] and "refusee" in data["counts"]


def test_the_demo_campaigns_are_open_on_its_day_so_no_file_is_late(demo):
    settings, runs, *_ = demo
    today = dt.date.fromisoformat(NOW[:10])
    with settings.campaigns_path.open(encoding="utf-8") as fh:
        deadlines = {
            int(r["periode"]): dt.date.fromisoformat(r["date_limite"]) for r in csv.DictReader(fh)
        }
    assert set(deadlines) == {2024, 2025}
    assert all(d > today for d in deadlines.values())
    assert query(
        settings.live_db, "SELECT count(*), count(*) FILTER (WHERE late) FROM submissions"
    ) == [(36, 0)]
    for name in ("status", "status 2024"):
        assert "  en retard : 0" in runs[name].out


def test_a_second_demo_records_duplicates_and_writes_one_receipt_each(demo):
    """What the README says: no new submission, no data changed, nothing republished, one
    new receipt per file (and a new annotated copy for a refused one)."""
    settings, runs, first, second, submissions = demo
    again = runs["demo again"].out
    # each campaign's run: the first campaign's workbooks, then the second's, prepared again
    # from the same declarations and filled the same way, so the same bytes
    same = "Fichiers reçus : 18 (nouveaux 0, doublons 18, expéditeur inconnu 0)."
    assert again.count(same) == 2
    assert "Aucune période à republier" in again
    assert query(settings.live_db, "SELECT count(*) FROM submissions") == submissions == [(36,)]
    assert first["recu"] < second["recu"] and len(second["recu"] - first["recu"]) == 36
    refused = query(settings.live_db, "SELECT count(*) FROM submissions WHERE n_errors > 0")
    assert len(second["annote"] - first["annote"]) == refused[0][0] > 0


def test_the_demo_leaves_a_realistic_review_mix(demo):
    """The first campaign signed off; on the latest (what `ptce status` shows), most signed off,
    one sent back with a comment (and its notice), the last ones waiting. A second demo decides
    nothing new."""
    settings, runs, *_ = demo
    states = query(
        settings.live_db,
        "SELECT period, review_state, count(*) FROM submissions WHERE review_state IS NOT NULL "
        "GROUP BY ALL ORDER BY ALL",
    )
    assert states == [
        (2024, "validee", 18),
        (2025, "a_corriger", 1),
        (2025, "a_revoir", 3),
        (2025, "validee", 12),
    ]
    (pole, by, comment), *_ = query(
        settings.live_db,
        "SELECT pole_id, reviewed_by, review_comment FROM submissions "
        "WHERE review_state = 'a_corriger'",
    )
    assert by == "démo" and "Source ou commentaire" in comment
    assert list((settings.inbox / pole / "retours").glob("*_relecture.html"))
    assert "Relecture nationale 2025 (démo) : validée 12, à corriger 1, à relire 3." in (
        runs["demo"].out
    )
    # the decisions were taken once: the second demo found them already recorded
    assert query(settings.live_db, "SELECT count(*) FROM audit WHERE action = 'review'") == [(31,)]


def test_the_second_campaign_is_filled_in_workbooks_prepared_from_the_first(demo):
    """The demo shows the flow: `campaign prepare` pre-fills each pole's 2025 workbook from its
    2024 declaration, and the poles type their values into it."""
    settings, runs, *_ = demo
    out = runs["demo"].out
    assert "Classeurs préparés : 18 sur 18 pôles attendus (pré-remplis 18, modèle vierge 0)" in out
    assert "18 classeurs pré-remplis complétés par les pôles et déposés (campagne 2025)." in out
    prepared = sorted(settings.inbox.glob("*/retours/modele_2025.xlsx"))
    assert len(prepared) == 18
    assert len(list(settings.inbox.glob("*/retours/modele_2025_a_lire.txt"))) == 18
    rows = query(
        settings.live_db,
        "SELECT s.template_version, count(*), count(p.submission_id) FROM submissions s "
        "LEFT JOIN submissions p ON p.submission_id = s.previous_submission_id "
        "AND p.period = 2024 WHERE s.period = 2025 GROUP BY ALL",
    )
    assert rows == [("2", 18, 18)]  # each compared with its pole's 2024 declaration
    from openpyxl import load_workbook

    (archived,) = query(
        settings.live_db,
        "SELECT archived_path FROM submissions WHERE period = 2025 AND pole_id = 'PTCE-001'",
    )
    ws = load_workbook(settings.home / archived[0])["Indicateurs"]
    assert [c.value for c in ws[4]][5:7] == ["Valeur 2024", "Valeur"]
