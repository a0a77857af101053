"""The CLI around the flows, in real subprocesses: French progress while files are read, the
same French summary as the run artifact, and nothing else on the terminal — no traceback, no
ERROR line, not even from Prefect's temporary server starting and stopping."""

from __future__ import annotations

import json
import re

import pytest
from helpers.procs import Procs, env_for, harness_url
from helpers.workbooks import drop

pytestmark = pytest.mark.usefixtures("prefect_harness")

PROGRESS = re.compile(r"^Lecture et validation : \d+/\d+ classeurs$")
DEMO_LINES = (
    "Démonstration dans ",
    "18 pôles inscrits, ",
    "Classeurs préparés : ",
    "18 classeurs pré-remplis complétés ",
    "Fichiers reçus : ",
    "Décisions : ",
    "  Refusé : ",
    "Courriels : démonstration, aucun courriel n'est envoyé.",  # whatever PTCE_SMTP_* say
    "Durée : ",
    "Relecture nationale ",
    "Renvoyée à ",
    "Tableaux 2024 publiés : ",
    "Tableaux 2025 publiés : ",
    "Données ouvertes 2024 publiées : ",
    "Données ouvertes 2025 publiées : ",
    "Complétude 2025 : ",
    "Données ouvertes (tout public) : ",
    "Tableaux nationaux (diffusion restreinte) : ",
    "Interroger l'entrepôt : ",
)


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def test_demo_prints_only_our_french_lines_and_progress(tmp_path, procs):
    """Prefect's own temporary server (no PREFECT_API_URL), started and stopped by us."""
    home = tmp_path / "ptce-demo"
    from ptce_pipeline.config import load_settings

    settings = load_settings({}, home=home)
    result = procs.run("demo", "--home", str(home), env=env_for(settings, api_url=None))
    assert result.code == 0, result
    for text in (result.out, result.err):
        assert "Traceback" not in text and "ERROR" not in text and "Error" not in text
    for line in result.out.splitlines():
        assert line.startswith(DEMO_LINES), line
    assert result.err.strip(), "no progress shown"
    for line in result.err.splitlines():
        assert PROGRESS.match(line), line
    # the temporary server is gone, its output kept apart
    assert not (settings.prefect_dir / "serveur-temporaire.pid").exists()
    assert (settings.prefect_dir / "serveur-temporaire.log").exists()


def test_ingest_summary_is_the_run_report(home, make_workbook, procs):
    from prefect.artifacts import Artifact

    def bad(data):
        data.indicators["IND12"] = 7

    drop(home, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    drop(home, "PTCE-002", "mauvais.xlsx", make_workbook("PTCE-002", 2024, change=bad))
    drop(home, "", "perdu.xlsx", make_workbook("PTCE-003", 2024))
    env = env_for(home, api_url=harness_url())
    result = procs.run("ingest", "--home", str(home.home), "--settle", "0", env=env)
    assert result.code == 0, result  # a refused file is a normal outcome
    lines = result.out.splitlines()
    assert lines[0] == "Fichiers reçus : 3 (nouveaux 2, doublons 0, expéditeur inconnu 1)."
    assert lines[1].startswith("Décisions : acceptés ")
    assert any(line.startswith("  Refusé : PTCE-002/mauvais.xlsx : Indicateurs!") for line in lines)
    assert PROGRESS.match(result.err.splitlines()[-1])
    assert result.err.splitlines()[-1] == "Lecture et validation : 2/2 classeurs"
    artifact = Artifact.get("ptce-ingestion").data
    summary = [
        line[2:] for line in artifact.split("## Comptes")[0].splitlines() if line.startswith("- ")
    ]
    from ptce_pipeline.catalogue import display

    # the same summary, Markdown-escaped (inert whatever a file name holds)
    assert summary == [display.markdown(line.strip(), 600) for line in lines]

    # --json: the same report, for machines
    drop(home, "PTCE-001", "encore.xlsx", make_workbook("PTCE-001", 2024))
    result = procs.run("ingest", "--home", str(home.home), "--settle", "0", "--json", env=env)
    data = json.loads(result.out)
    assert (data["new"], data["duplicates"], data["needs_attention"]) == (0, 1, False)


def test_ingest_outside_a_home_says_so(tmp_path, procs):
    from ptce_pipeline.config import load_settings

    settings = load_settings({}, home=tmp_path / "nulle-part")
    result = procs.run(
        "ingest", "--home", str(settings.home), env=env_for(settings, api_url=harness_url())
    )
    assert result.code == 2
    assert result.err.startswith("Erreur : Le dossier ") and "ptce init" in result.err
    assert not (settings.home / ".prefect").exists()  # Prefect never started
