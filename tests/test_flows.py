"""Real Prefect flow runs under prefect_test_harness."""

from __future__ import annotations

import duckdb
import pytest
from conftest import drop

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_ingest_flow_completes_and_reports(home, make_workbook):
    from prefect.artifacts import Artifact

    from ptce_pipeline.flows.ingest import ingest_inbox

    drop(home, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))

    def bad(data):
        data.indicators["IND12"] = 7

    drop(home, "PTCE-002", "mauvais.xlsx", make_workbook("PTCE-002", 2024, change=bad))
    state = ingest_inbox(home=str(home.home), settle=0, return_state=True)
    assert state.is_completed()
    report = state.result()
    assert report["new"] == 2 and report["statuses"]["refusee"] == 1
    artifact = Artifact.get("ptce-ingestion")
    assert "Fichiers refusés" in artifact.data and "mauvais.xlsx" in artifact.data
    con = duckdb.connect(str(home.snapshot_db), read_only=True)
    assert con.execute("SELECT count(*) FROM current_submissions").fetchone() == (1,)
    con.close()


def test_run_pipeline_publishes(home, make_workbook):
    from ptce_pipeline.flows.run import run_pipeline

    for pole in ("PTCE-001", "PTCE-002", "PTCE-003"):
        drop(home, pole, f"{pole}.xlsx", make_workbook(pole, 2024))
    result = run_pipeline(home=str(home.home), settle=0)
    assert result["publication"]["published"] == [2024]
    index = home.publications_dir / "2024" / "index.html"
    assert index.exists() and 'lang="fr"' in index.read_text(encoding="utf-8")
