"""Once each, even across crashes: a `ptce remind` killed (SIGKILL, the project's fault
injection) after the server accepted a message but before the outbox recorded it; the next
run sends that message again — twice at most, never zero — and the others once."""

from __future__ import annotations

import collections

import pytest
from helpers.procs import Procs, env_for
from helpers.smtp import SmtpServer, free_port, smtp_env
from helpers.workbooks import drop, make_home

from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store.outbox import OutboxJournal, read_outbox
from ptce_pipeline.template import demo

NOW = "2026-03-01T09:00:00"


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def test_killed_between_send_and_record_then_rerun(tmp_path, make_workbook, procs):
    port = free_port()
    env = smtp_env(port, PTCE_NOW=NOW)
    settings = make_home(tmp_path / "home", poles=demo.registry()[:4], **env)
    settings.campaigns_path.write_text("periode,date_limite\n2024,2026-03-31\n", encoding="utf-8")
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(settings)
    base = env_for(settings, api_url=None, **env)
    planned = procs.run("remind", "--home", str(settings.home), "--dry-run", env=base)
    assert planned.code == 0, planned
    assert "Courriels : 3 à envoyer (essai à blanc : rien n'est envoyé)." in planned.out
    down = procs.run("remind", "--home", str(settings.home), env=base)
    assert down.code == 1, down  # the server is down: three reminders wait in the outbox
    assert "Courriels : 3 en attente (serveur SMTP injoignable" in down.out
    assert len(read_outbox(OutboxJournal(settings)).pending()) == 3

    with SmtpServer(port=port) as sink:
        killed = procs.run(
            "remind",
            "--home",
            str(settings.home),
            env={**base, "PTCE_FAULT": "kill:mail_after_send@2"},
        )
        assert killed.code == -9, killed
        assert len(sink.received) == 2  # the second was accepted, then the process died
        again = procs.run("remind", "--home", str(settings.home), env=base)
        assert again.code == 0, again
        assert "Courriels : 2 envoyé(s)." in again.out
        counts = collections.Counter(str(r.message["Message-ID"]) for r in sink.received)
        assert sorted(counts.values()) == [1, 1, 2]  # never zero; twice at the kill point only
        assert len(counts) == 3
        outbox = read_outbox(OutboxJournal(settings))
        assert sorted(e.attempts for e in outbox.entries.values()) == [1, 1, 2]
        assert all(e.sent_at for e in outbox.entries.values())
        # and nothing more, ever: a rebuild of the warehouse, then another run
        rebuilt = procs.run("rebuild", "--home", str(settings.home), env=base)
        assert rebuilt.code == 0, rebuilt
        assert procs.run("remind", "--home", str(settings.home), env=base).code == 0
        assert len(sink.received) == 4
