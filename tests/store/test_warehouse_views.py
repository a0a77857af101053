"""The analysts' views on a real snapshot: completeness semantics and national figures."""

from __future__ import annotations

import statistics

import pytest
from helpers.workbooks import drop, q, set_indicator

from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.run import run_ingest


def completeness(settings, period):
    rows = q(
        settings.snapshot_db,
        "SELECT pole_id, status, late, submission_id IS NOT NULL FROM completeness "
        "WHERE period = ? ORDER BY pole_id",
        period,
    )
    return {r[0]: r[1:] for r in rows}


@pytest.fixture
def past_deadline(home):
    """2024's deadline has passed; 2025's has not."""
    (home.home / "campagnes.csv").write_text(
        "periode,date_limite\n2024,2025-03-31\n2025,2099-03-31\n", encoding="utf-8"
    )
    return home


def test_completeness_statuses_and_late_flags(past_deadline, make_workbook):
    home = past_deadline
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2025))
    drop(home, "PTCE-002", "b.xlsx", make_workbook("PTCE-002", 2025))
    drop(
        home,
        "PTCE-003",
        "c.xlsx",
        make_workbook("PTCE-003", 2025, change=set_indicator("IND02", 140)),
    )
    drop(home, "PTCE-004", "d.xlsx", make_workbook("PTCE-004", 2024))
    drop(home, "PTCE-006", "f.xlsx", make_workbook("PTCE-006", 2025))
    run_ingest(home)
    # refused after an accepted one: the accepted version stays the pole's status
    drop(
        home,
        "PTCE-002",
        "b2.xlsx",
        make_workbook("PTCE-002", 2025, change=set_indicator("IND02", 140)),
    )
    run_ingest(home)
    sid_f = q(home.live_db, "SELECT submission_id FROM submissions WHERE original_name = 'f.xlsx'")
    corrections.withdraw(home, sid_f[0][0], reason="doublon d'un autre pôle", by="equipe")
    corrections.campaign(home, 2025, close=True, reason=None, by="equipe")
    drop(home, "PTCE-005", "e.xlsx", make_workbook("PTCE-005", 2025))
    run_ingest(home)

    c2025 = completeness(home, 2025)
    assert c2025["PTCE-001"] == ("acceptee", False, True)
    assert c2025["PTCE-002"] == ("acceptee", False, True)
    assert c2025["PTCE-003"] == ("refusee", False, True)
    assert c2025["PTCE-005"] == ("retenue", False, True)  # held: campaign closed
    assert c2025["PTCE-006"] == ("retiree", False, True)
    assert c2025["PTCE-007"] == ("manquante", False, False)  # deadline still ahead
    # every registered pole is expected, whether it sent anything or not
    assert len(c2025) == q(home.live_db, "SELECT count(*) FROM poles")[0][0]

    c2024 = completeness(home, 2024)
    assert c2024["PTCE-004"] == ("acceptee", True, True)  # received after the deadline
    assert c2024["PTCE-001"] == ("manquante", True, False)  # nothing, deadline passed
    closed = q(
        home.snapshot_db, "SELECT DISTINCT campaign_closed FROM completeness WHERE period = 2025"
    )
    assert closed == [(True,)]


def test_completeness_last_received_at_counts_duplicates(home, make_workbook):
    data = make_workbook("PTCE-001", 2025)
    drop(home, "PTCE-001", "a.xlsx", data)
    run_ingest(home)
    drop(home, "PTCE-001", "a encore.xlsx", data)
    run_ingest(home)
    last = q(
        home.snapshot_db,
        "SELECT c.last_received_at = (SELECT max(received_at) FROM deliveries), "
        "c.last_received_at > s.received_at FROM completeness c JOIN submissions s USING (submission_id) "
        "WHERE c.pole_id = 'PTCE-001' AND c.period = 2025",
    )
    assert last == [(True, True)]


def test_a_deadline_extension_clears_late(past_deadline, make_workbook):
    home = past_deadline
    drop(home, "PTCE-004", "d.xlsx", make_workbook("PTCE-004", 2024))
    run_ingest(home)
    assert completeness(home, 2024)["PTCE-004"][1] is True
    (home.home / "campagnes.csv").write_text(
        "periode,date_limite\n2024,2099-12-31\n2025,2099-03-31\n", encoding="utf-8"
    )
    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2025))
    run_ingest(home)
    assert completeness(home, 2024)["PTCE-004"][1] is False
    assert completeness(home, 2024)["PTCE-001"] == ("manquante", False, False)


def test_national_indicators(home, make_workbook):
    for n, pole in enumerate(["PTCE-001", "PTCE-002", "PTCE-003", "PTCE-004", "PTCE-005"]):
        drop(home, pole, f"{pole}.xlsx", make_workbook(pole, 2025, seed=n))
    run_ingest(home)
    values = q(
        home.snapshot_db,
        "SELECT indicator_code, value FROM current_indicator_values WHERE period = 2025 AND value IS NOT NULL",
    )
    by_code: dict[str, list[float]] = {}
    for code, value in values:
        by_code.setdefault(code, []).append(value)
    rows = q(
        home.snapshot_db,
        "SELECT indicator_code, n_poles, total, median, q1, q3, min, max FROM national_indicators "
        "WHERE period = 2025",
    )
    assert {r[0] for r in rows} == set(by_code)
    summable = dict(q(home.snapshot_db, "SELECT code, summable FROM ref_indicators"))
    for code, n, total, median, q1, q3, lo, hi in rows:
        xs = sorted(by_code[code])
        assert n == len(xs)
        if summable[code]:
            assert total == pytest.approx(sum(xs))
        else:
            assert total is None  # a percentage or a scale has no meaningful total
        if len(xs) >= 2:
            expected_q1, expected_median, expected_q3 = statistics.quantiles(
                xs, n=4, method="inclusive"
            )
            assert (q1, median, q3) == pytest.approx((expected_q1, expected_median, expected_q3))
        assert (lo, hi) == (xs[0], xs[-1])
    assert not summable["IND02"] and summable["IND22"]
