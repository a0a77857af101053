"""The analysts' data dictionary (docs/dictionnaire.md) is checked against a real snapshot:
every view is documented with its exact columns and at least one example query, and every
example query runs and returns rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from helpers.workbooks import drop

from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.run import run_ingest

DOC = Path(__file__).resolve().parents[2] / "docs" / "dictionnaire.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### `(\w+)`.*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def documented_columns(body: str) -> list[str]:
    return re.findall(r"^\| `(\w+)` \|", body, flags=re.M)


def queries(text: str) -> list[str]:
    return re.findall(r"```sql\n(.+?)```", text, flags=re.S)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory, ref):
    """A snapshot with accepted, replaced, refused and withdrawn submissions, a duplicate, an
    unknown sender and a campaign closed."""
    import copy

    from helpers.workbooks import filled, make_home, workbook

    home = make_home(tmp_path_factory.mktemp("dictionnaire") / "home")

    def make(pole, period, **indicators):
        data = copy.deepcopy(filled(ref, pole, period))
        data.indicators.update(indicators)
        return workbook(ref, data)

    for pole in ("PTCE-001", "PTCE-002", "PTCE-003", "PTCE-004"):
        drop(home, pole, f"{pole}.xlsx", make(pole, 2024))
    drop(home, "", "sans dossier.xlsx", make("PTCE-005", 2024))
    run_ingest(home)
    drop(home, "PTCE-001", "v2.xlsx", make("PTCE-001", 2024, IND22=250.0))
    drop(home, "PTCE-002", "refus.xlsx", make("PTCE-002", 2024, IND02=140))
    drop(home, "PTCE-003", "copie.xlsx", make("PTCE-003", 2024))
    drop(home, "PTCE-004", "v2.xlsx", make("PTCE-004", 2024, IND22=9.0))
    run_ingest(home)
    con = duckdb.connect(str(home.live_db), read_only=True)
    (sid,) = con.execute(
        "SELECT submission_id FROM submissions WHERE pole_id = 'PTCE-004' AND original_name = 'v2.xlsx'"
    ).fetchone()
    con.close()
    corrections.withdraw(home, sid, reason="valeur aberrante", by="analyste")
    corrections.campaign(home, 2024, close=True, reason="clôture", by="analyste")
    return home.snapshot_db


def test_every_view_is_documented_with_its_columns_and_an_example(snapshot):
    docs = sections()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        views = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'"
            ).fetchall()
        ]
        assert sorted(views) == sorted(v for v in views if v in docs), "undocumented view"
        for view in views:
            body = docs[view]
            actual = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
            documented = documented_columns(body)
            if view != "current_submissions":  # documented as `submissions`
                assert documented == actual, view
            assert any(re.search(rf"\b{view}\b", sql) for sql in queries(body)), view
        for name, body in docs.items():
            if name in views or not documented_columns(body):
                continue
            actual = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
            assert documented_columns(body) == actual, name
        assert [r[0] for r in con.execute("DESCRIBE current_submissions").fetchall()] == [
            r[0] for r in con.execute("DESCRIBE submissions").fetchall()
        ]
    finally:
        con.close()


def test_every_example_query_runs_and_returns_rows(snapshot):
    examples = queries(DOC.read_text(encoding="utf-8"))
    assert len(examples) >= 15
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for sql in examples:
            rows = con.execute(sql).fetchall()
            assert rows, sql
    finally:
        con.close()


def test_the_personal_data_promise_holds(snapshot):
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    finally:
        con.close()
    assert "contacts" not in tables
    assert "contacts" not in sections()
