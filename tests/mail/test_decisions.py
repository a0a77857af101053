"""The e-mails of a run's decisions, through a real SMTP server (aiosmtpd): French text and
HTML, attachments, recipients from poles.csv and the declaration in force only, sent once."""

from __future__ import annotations

import dataclasses

import pytest
from helpers.smtp import SmtpServer, free_port, smtp_env
from helpers.workbooks import drop, make_home, q

from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.mail import after_run
from ptce_pipeline.store.outbox import OutboxJournal, read_outbox

INTRUDER = "intrus@pirate.example.com"


def _bad(data):
    data.indicators["IND12"] = 7
    data.identity["contact_email"] = INTRUDER  # a refused file never chooses a recipient


def _intruder(data):
    data.identity["contact_email"] = INTRUDER


@pytest.fixture
def sink():
    with SmtpServer(refuse={"contact@ptce-004.example.org"}) as s:
        yield s


def _home(tmp_path, port, **env):
    return make_home(tmp_path / "home", **smtp_env(port, **env))


def test_a_runs_decisions_are_mailed_once(tmp_path, make_workbook, sink):
    settings = _home(tmp_path, sink.port)
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    drop(settings, "PTCE-002", "mauvais.xlsx", make_workbook("PTCE-002", 2024, change=_bad))
    drop(settings, "", "perdu.xlsx", make_workbook("PTCE-003", 2024, change=_intruder))
    drop(settings, "PTCE-005", "autre.xlsx", make_workbook("PTCE-003", 2024, change=_intruder))
    report = run_ingest(settings)
    assert report.statuses["acceptee"] + report.statuses["acceptee_avec_avertissements"] == 1
    mail = after_run(settings, start_seq=0)
    assert mail.lines == ["Courriels : 3 envoyé(s)."], mail.lines

    by_pole = {r.subject.split(" ")[1]: r for r in sink.received}
    assert sorted(by_pole) == ["PTCE-001", "PTCE-002", "PTCE-005"]
    ok = by_pole["PTCE-001"]
    # the registry's address, then the contact of the declaration in force (this one)
    assert ok.recipients == ["contact@ptce-001.example.org", "contact.ptce-001@exemple.fr"]
    assert "période 2024 : déclaration acceptée" in ok.subject
    assert "Il n'y a rien d'autre à faire" in ok.part("plain")
    assert "https://ptce.exemple.fr/" in ok.part("plain")
    assert "acces/" not in ok.part("plain")  # never a personal access token
    assert ok.part("html").startswith('<!DOCTYPE html><html lang="fr">')
    assert [n.endswith("_recu.html") for n in ok.attachments] == [True]

    refused = by_pole["PTCE-002"]
    assert refused.recipients == ["contact@ptce-002.example.org"]  # not the file's contact
    assert "déclaration refusée" in refused.subject
    text = refused.part("plain")
    assert "Erreur — Indicateurs" in text and "déposez de nouveau le classeur entier" in text
    assert sorted(n.rsplit("_", 1)[1] for n in refused.attachments) == ["annote.xlsx", "recu.html"]
    # a file dropped in PTCE-005's folder claiming to be another pole: refused, mailed to the
    # owner of the folder only; the unregistered drop (inbox root) mails nobody
    assert by_pole["PTCE-005"].recipients == ["contact@ptce-005.example.org"]
    assert all(INTRUDER not in r.recipients for r in sink.received)

    # nothing is sent twice: a second run with nothing new, a later run, `remind`
    assert after_run(settings).lines == []
    drop(settings, "PTCE-001", "bon-bis.xlsx", make_workbook("PTCE-001", 2024))  # a duplicate
    run_ingest(settings)
    after_run(settings)
    assert len(sink.received) == 3
    outbox = read_outbox(OutboxJournal(settings))
    assert {e.key: bool(e.sent_at) for e in outbox.entries.values()} == {
        "decision:2:acceptee": True,  # journal numbers: 1 is the configuration record
        "decision:3:refusee": True,
        "decision:5:refusee": True,
    }
    assert oct(settings.outbox_path.stat().st_mode & 0o777) == "0o600"
    # mirrored into the live warehouse by the next run's commit
    drop(settings, "PTCE-001", "bon-ter.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(settings)
    assert q(
        settings.live_db, "SELECT message_key, sent_at IS NOT NULL FROM outbox ORDER BY 1"
    ) == [
        ("decision:2:acceptee", True),
        ("decision:3:refusee", True),
        ("decision:5:refusee", True),
    ]


def test_an_address_the_server_refuses_is_reported_once(tmp_path, make_workbook, sink):
    settings = _home(tmp_path, sink.port, PTCE_DIGEST_TO="equipe@exemple.fr")
    drop(settings, "PTCE-004", "a.xlsx", make_workbook("PTCE-004", 2024))
    run_ingest(settings)
    mail = after_run(settings, start_seq=0)
    assert (
        "Courriel decision:2:acceptee : adresse refusée par le serveur : "
        "contact@ptce-004.example.org." in mail.lines
    )
    notices = sink.to("equipe@exemple.fr")
    assert [n.subject for n in notices] == ["PTCE — adresse électronique refusée"]
    assert "contact@ptce-004.example.org" in notices[0].part("plain")
    drop(settings, "PTCE-004", "b.xlsx", make_workbook("PTCE-004", 2025))
    run_ingest(settings)
    after_run(settings)
    assert len(sink.to("equipe@exemple.fr")) == 1  # once


def test_smtp_down_delays_mail_and_never_fails_the_run(tmp_path, make_workbook):
    port = free_port()  # nothing listens there yet
    settings = _home(tmp_path, port)
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    report = run_ingest(settings)
    assert report.statuses["acceptee"] + report.statuses["acceptee_avec_avertissements"] == 1
    mail = after_run(settings, start_seq=0)
    assert mail.deferred == 1 and mail.sent == 0
    assert mail.lines[0].startswith("Courriels : 1 en attente (serveur SMTP injoignable")
    # a run with nothing new goes through the flow while mail waits (not the fast no-op answer)
    from ptce_pipeline.orchestration.noop import without_prefect

    assert without_prefect(settings, "ingest") is None
    with SmtpServer(port=port) as sink:
        assert after_run(settings).lines == ["Courriels : 1 envoyé(s)."]
        assert len(sink.received) == 1
    assert without_prefect(settings, "ingest") is not None


def test_without_smtp_settings_nothing_is_queued(tmp_path, make_workbook):
    settings = make_home(tmp_path / "home")
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(settings)
    assert after_run(settings, start_seq=0).lines == [
        "Courriels : aucun envoi, l'envoi n'est pas configuré (PTCE_SMTP_HOST)."
    ]
    assert not settings.outbox_path.exists()
    assert q(settings.live_db, "SELECT count(*) FROM outbox") == [(0,)]


def test_review_decisions_are_mailed(tmp_path, make_workbook, sink):
    from ptce_pipeline.ingestion.review import decide

    settings = _home(tmp_path, sink.port)
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    drop(settings, "PTCE-002", "bon.xlsx", make_workbook("PTCE-002", 2024))
    run_ingest(settings)
    after_run(settings, start_seq=0)
    assert len(sink.received) == 2
    decide(settings, [2], "validee", comment=None, by="equipe")
    decide(settings, [3], "a_corriger", comment="Le budget semble inversé.", by="equipe")
    decide(settings, [3], "a_corriger", comment="Le budget semble inversé.", by="equipe")  # no-op
    mail = after_run(settings)
    assert mail.lines == ["Courriels : 2 envoyé(s)."]
    signed, sent_back = sink.received[2:]
    assert (
        signed.subject
        == "PTCE PTCE-001 — période 2024 : déclaration validée par l'équipe nationale"
    )
    assert "rien d'autre à faire" in signed.part("plain")
    assert sent_back.recipients == ["contact@ptce-002.example.org", "contact.ptce-002@exemple.fr"]
    assert sent_back.subject == "PTCE PTCE-002 — période 2024 : déclaration à corriger"
    text = sent_back.part("plain")
    assert "Commentaire de l'équipe nationale : « Le budget semble inversé. »" in text
    assert "L'avis de l'équipe nationale est aussi dans le dossier « retours »" in text
    assert after_run(settings).lines == []  # once


def test_a_burst_goes_at_the_configured_rate_within_the_runs_time(tmp_path, make_workbook, sink):
    from ptce_pipeline.mail import queue_run_mail, send_queued

    settings = _home(tmp_path, sink.port, PTCE_SMTP_RATE="60")  # one a second
    for pole in ("PTCE-001", "PTCE-002", "PTCE-003"):
        drop(settings, pole, "bon.xlsx", make_workbook(pole, 2024))
    run_ingest(settings)
    assert queue_run_mail(settings, start_seq=0).queued == 3
    report = send_queued(settings, budget_s=1.5)
    # the third would start 2 s after the first: past the budget, it waits for the next run
    assert report.lines == [
        "Courriels : 2 envoyé(s).",
        "Courriels : 1 en attente (limite de 1.5 s par passage) ; envoyés aux passages suivants.",
    ]
    assert not report.needs_attention  # a burst is not a fault
    assert send_queued(settings, budget_s=None).lines == ["Courriels : 1 envoyé(s)."]
    assert len(sink.received) == 3


def test_a_reprocessed_file_that_changes_status_is_mailed(tmp_path, make_workbook, sink):
    from ptce_pipeline.catalogue.registry import load_registry, write_registry
    from ptce_pipeline.ingestion.corrections import reprocess

    settings = _home(tmp_path, sink.port)
    poles = list(load_registry(settings.registry_path).poles.values())
    ended = [
        p if p.pole_id != "PTCE-001" else dataclasses.replace(p, derniere_periode=2023)
        for p in poles
    ]
    write_registry(settings.registry_path, ended)
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(settings)
    after_run(settings, start_seq=0)
    assert [r.subject.rsplit(" ", 1)[1] for r in sink.received] == ["refusée"]
    write_registry(settings.registry_path, poles)  # its participation was extended
    reprocess(settings, sid=2, reason="registre corrigé", by="equipe")
    reprocess(settings, sid=2, reason="encore", by="equipe")  # the same status: nothing new
    after_run(settings)
    assert [r.subject.rsplit(" ", 1)[1] for r in sink.received] == ["refusée", "acceptée"]
