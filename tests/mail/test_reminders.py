"""Reminders over a fixed clock (J-30, J-7, J-1, J+1 of an open deadline; after a gap only the
latest milestone due, once), the weekly digest by e-mail and through Apprise, `--dry-run`."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from helpers.smtp import SmtpServer, free_port, smtp_env
from helpers.workbooks import drop, make_home

from ptce_pipeline.config import PARIS
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.mail import remind
from ptce_pipeline.template import demo


def _bad(data):
    data.indicators["IND12"] = 7


def _at(day: str):
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=ZoneInfo(PARIS))


@pytest.fixture
def sink():
    with SmtpServer() as s:
        yield s


def _home(tmp_path, make_workbook, port, **env):
    """Three poles expected for 2024 (deadline 31 March 2026): PTCE-001 accepted, PTCE-002
    refused, PTCE-003 silent."""
    settings = make_home(tmp_path / "home", poles=demo.registry()[:3], **smtp_env(port, **env))
    settings.campaigns_path.write_text("periode,date_limite\n2024,2026-03-31\n", encoding="utf-8")
    settings = settings.with_(now=_at("2026-02-01"))
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    drop(settings, "PTCE-002", "mauvais.xlsx", make_workbook("PTCE-002", 2024, change=_bad))
    run_ingest(settings)
    return settings


def _reminders(sink) -> list[tuple[str, str]]:
    """(pole, milestone) of every reminder received, in order."""
    out = []
    for r in sink.received:
        if "rappel" in r.subject:
            words = r.subject.split()
            out.append((words[1], words[-1].strip("()")))
    return out


def test_reminder_schedule_over_a_fixed_clock(tmp_path, make_workbook, sink):
    settings = _home(tmp_path, make_workbook, sink.port)
    remind(settings)  # the decisions' e-mails before the mail was set up are not sent
    assert sink.received == []
    for day, expected in [
        ("2026-02-28", []),  # J-31: nothing yet
        ("2026-03-01", [("PTCE-002", "J-30"), ("PTCE-003", "J-30")]),
        ("2026-03-01", []),  # the same day again: once
        ("2026-03-20", []),
        ("2026-03-24", [("PTCE-002", "J-7"), ("PTCE-003", "J-7")]),
        # a gap: J-1 (30 March) and J+1 (1 April) were missed; only J+1 goes, once
        ("2026-04-05", [("PTCE-002", "J+1"), ("PTCE-003", "J+1")]),
        ("2026-04-06", []),
        ("2026-09-01", []),
    ]:
        before = len(sink.received)
        report = remind(settings.with_(now=_at(day)))
        assert not report.needs_attention, report.lines
        assert _reminders(type(sink)(sink.port, received=sink.received[before:])) == expected, day
    never = [r for r in sink.received if "PTCE-001" in r.subject]
    assert never == []  # its declaration is accepted
    first = sink.to("contact@ptce-003.example.org")[0]
    text = first.part("plain")
    assert "La date limite de la période 2024 est le 31 mars 2026, dans 30 jours." in text
    assert "Nous n'avons encore reçu aucun classeur de votre part." in text
    refused = sink.to("contact@ptce-002.example.org")[-1].part("plain")
    assert "La date limite de la période 2024 était le 31 mars 2026." in refused
    assert "Votre dernier dépôt est « refusée » : il ne compte pas encore." in refused


def test_a_closed_campaign_gets_no_reminder(tmp_path, make_workbook, sink):
    from ptce_pipeline.ingestion.corrections import campaign

    settings = _home(tmp_path, make_workbook, sink.port)
    campaign(settings, 2024, close=True, reason=None, by="test")
    remind(settings.with_(now=_at("2026-04-05")))
    assert _reminders(sink) == []


def test_weekly_digest_on_its_day_once(tmp_path, make_workbook, sink):
    settings = _home(
        tmp_path,
        make_workbook,
        sink.port,
        PTCE_DIGEST_TO="equipe@exemple.fr",
        PTCE_DIGEST_DAY="mercredi",
    )
    remind(settings.with_(now=_at("2026-03-03")))  # a Tuesday: not yet this week's digest
    assert sink.to("equipe@exemple.fr") == []
    remind(settings.with_(now=_at("2026-03-04")))  # Wednesday
    remind(settings.with_(now=_at("2026-03-05")))  # once a week
    digests = sink.to("equipe@exemple.fr")
    assert [d.subject for d in digests] == ["PTCE — synthèse de la semaine 10 de 2026"]
    text = digests[0].part("plain")
    assert "2024 : 1 déclaration(s) acceptée(s) sur 3 attendue(s)" in text
    assert "PTCE-002 : mauvais.xlsx (refusée)" not in text  # refused a month ago
    assert "Déclarations en attente de revue" in text
    remind(settings.with_(now=_at("2026-04-08")))  # a later Wednesday: late poles listed
    late = sink.to("equipe@exemple.fr")[-1].part("plain")
    assert "PTCE-003 (" in late.split("Pôles en retard")[1]


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_digest_through_an_apprise_url(tmp_path, make_workbook, sink):
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"json://127.0.0.1:{port}/"
        settings = _home(tmp_path, make_workbook, sink.port, PTCE_DIGEST_TO=url)
        report = remind(settings.with_(now=_at("2026-03-02")))
        assert not report.needs_attention, report.lines
    finally:
        server.shutdown()
    assert [m["title"] for m in _Hook.received] == ["PTCE — synthèse de la semaine 10 de 2026"]
    assert "Pôles en retard" in _Hook.received[0]["message"]


def test_dry_run_sends_and_records_nothing(tmp_path, make_workbook, sink):
    settings = _home(tmp_path, make_workbook, sink.port)
    report = remind(settings.with_(now=_at("2026-03-01")), dry_run=True)
    assert [p["key"] for p in report.planned] == [
        "relance:PTCE-002:2024:J-30",
        "relance:PTCE-003:2024:J-30",
    ]
    assert report.lines == ["Courriels : 2 à envoyer (essai à blanc : rien n'est envoyé)."]
    assert sink.received == []
    remind(settings.with_(now=_at("2026-03-01")))
    assert len(sink.received) == 2
