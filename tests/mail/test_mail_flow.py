"""The e-mails of a real `ingest-inbox` flow run: sent once the warehouse lock is released,
reported in the run summary and its artifact; the `ptce-reminders` deployment; no address in
the analysts' snapshot, its Parquet files or the publications."""

from __future__ import annotations

import pytest
from helpers.smtp import SmtpServer, smtp_env
from helpers.workbooks import drop, make_home, q

from ptce_pipeline.errors import WarehouseBusy
from ptce_pipeline.store.lock import warehouse_lock

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _lock_free(settings):
    def probe():
        try:
            with warehouse_lock(settings.lock_path, what="test"):
                return True
        except WarehouseBusy:
            return False

    return probe


def test_flow_mails_after_the_lock_and_reports_it(tmp_path, make_workbook, monkeypatch):
    from prefect.artifacts import Artifact

    from ptce_pipeline.flows.ingest import ingest_inbox
    from ptce_pipeline.flows.publish import publish_national_tables

    with SmtpServer() as sink:
        env = smtp_env(sink.port)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = make_home(tmp_path / "home", **env)
        sink.probe = _lock_free(settings)
        drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
        drop(settings, "PTCE-002", "bon.xlsx", make_workbook("PTCE-002", 2024))
        state = ingest_inbox(home=str(settings.home), settle=0, return_state=True)
        report = state.result()
        assert state.is_completed(), state
        assert report["mail"] == ["Courriels : 2 envoyé(s)."]
        assert sink.probes == [True, True]  # the warehouse was free while mail went out
        artifact = Artifact.get("ptce-ingestion").data
        assert "Courriels : 2 envoyé(s)" in artifact.replace("\\", "")
        publish_national_tables(home=str(settings.home))

    # no address anywhere analysts or the public read, nor in the archived registry
    addresses = [b"example.org", b"contact.ptce-001@exemple.fr", b"contact.ptce-002"]
    assert q(settings.live_db, "SELECT count(*) FROM outbox") == [(0,)]  # mirrored next run
    places = [
        settings.snapshot_db,
        *settings.parquet_dir.rglob("*"),
        *settings.publications_dir.rglob("*"),
        *(settings.archive_dir / "config").glob("*"),
    ]
    files = [p for p in places if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    assert any(p.suffix == ".html" for p in files)
    leaks = [str(p) for p in files for a in addresses if a in p.read_bytes()]
    assert leaks == []
    tables = {
        r[0] for r in q(settings.snapshot_db, "SELECT table_name FROM information_schema.tables")
    }
    assert "outbox" not in tables and "contacts" not in tables
    # the live warehouse holds them (and the outbox, mirrored at the next commit)
    drop(settings, "PTCE-003", "bon.xlsx", make_workbook("PTCE-003", 2024))
    with SmtpServer(port=sink.port):
        ingest_inbox(home=str(settings.home), settle=0)
    assert len(q(settings.live_db, "SELECT * FROM outbox")) == 2


def test_serve_declares_the_reminders_deployment(tmp_path):
    from ptce_pipeline.orchestration.serve import deployments

    settings = make_home(tmp_path / "home")
    deps = {
        d.name: d
        for d in deployments(settings, ingest_cron="*/15 * * * *", publish_cron="0 6 * * *")
    }
    reminders = deps["ptce-reminders"]
    assert reminders.flow_name == "remind-poles"
    (schedule,) = reminders.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 9 * * *", "Europe/Paris")
    assert reminders.parameters == {"home": str(settings.home)}


def test_remind_poles_flow_run(tmp_path, make_workbook, monkeypatch):
    from prefect.artifacts import Artifact

    from ptce_pipeline.catalogue import Pole
    from ptce_pipeline.flows.remind import remind_poles
    from ptce_pipeline.ingestion.run import run_ingest

    with SmtpServer() as sink:
        env = smtp_env(sink.port, PTCE_NOW="2026-04-02T09:00:00")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        poles = [Pole("PTCE-001", "Pôle un", "59", 2024, None, ("un@exemple.fr",))]
        settings = make_home(tmp_path / "home", poles=poles, **env)
        settings.campaigns_path.write_text("periode,date_limite\n2024,2026-03-31\n")
        run_ingest(settings)  # the warehouse, nothing dropped: PTCE-001 is late for 2024
        state = remind_poles(home=str(settings.home), return_state=True)
        assert state.is_completed(), state
        assert state.result()["lines"] == ["Courriels : 1 envoyé(s)."]
        (reminder,) = sink.received
        assert reminder.recipients == ["un@exemple.fr"]
        assert reminder.subject == "PTCE PTCE-001 — rappel : déclaration 2024 attendue (J+1)"
        assert "Courriels : 1 envoyé" in Artifact.get("ptce-courriels").data.replace("\\", "")
