"""The one clock: `PTCE_NOW` fixes it for tests and demos; receipts, journal and lock notes
take it, so the same inputs give byte-identical outputs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ptce_pipeline.config import load_settings
from ptce_pipeline.errors import ConfigError


def test_ptce_now_fixes_the_clock(tmp_path):
    settings = load_settings({"PTCE_NOW": "2026-04-15T10:00:00+02:00"}, home=tmp_path)
    assert settings.clock() == dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)
    # without an offset, the date-time is Paris time (summer: UTC+2)
    naive = load_settings({"PTCE_NOW": "2026-07-01T12:00"}, home=tmp_path)
    assert naive.clock() == dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)


def test_without_ptce_now_the_clock_is_the_machines(tmp_path):
    settings = load_settings({}, home=tmp_path)
    before = dt.datetime.now(dt.UTC)
    assert before <= settings.clock() <= dt.datetime.now(dt.UTC)


def test_a_bad_ptce_now_is_a_french_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="PTCE_NOW doit être une date ISO 8601"):
        load_settings({"PTCE_NOW": "demain"}, home=tmp_path)


def test_the_system_user_is_known_without_user(tmp_path):
    settings = load_settings({}, home=tmp_path)
    assert settings.user not in ("", "inconnu")


def test_a_run_stamps_journal_and_receipts_with_the_fixed_clock(home, make_workbook, monkeypatch):
    from helpers.workbooks import drop

    from ptce_pipeline.ingestion.run import run_ingest

    monkeypatch.setenv("PTCE_NOW", "2031-02-03T04:05:06+00:00")
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(load_settings(home=home.home, settle=0))
    records = [json.loads(line) for line in home.journal_path.open()]
    assert {r["at"] for r in records if "at" in r} == {"2031-02-03T04:05:06+00:00"}
    receipts = list((home.inbox / "PTCE-001/retours").glob("*_recu.html"))
    assert [p.name[:15] for p in receipts] == ["20310203-050506"]  # Paris time in the name
