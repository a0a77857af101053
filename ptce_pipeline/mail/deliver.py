"""The entry points of mail: an ingestion run's e-mails (`queue_run_mail` under its lock, then
`send_queued` once it is released; `after_run` does both) and the daily reminders (`remind`).
Each queues what is due in the outbox under the warehouse lock (the live warehouse is read then
only), then sends every pending message without it; each returns a `MailReport` whose French
lines go into the run summary and the run's artifact.

Mail never stops or slows a run: any trouble (no settings, a server down, a refusal) becomes a
line of the report and the messages wait for the next run."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.catalogue.registry import load_registry
from ptce_pipeline.config import Settings, is_address
from ptce_pipeline.errors import PtceError, WarehouseBusy
from ptce_pipeline.mail import compose, produce
from ptce_pipeline.mail.compose import Message
from ptce_pipeline.mail.send import Sent
from ptce_pipeline.store import mail_data
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.lock import warehouse_lock
from ptce_pipeline.store.outbox import Outbox, OutboxJournal, read_outbox


@dataclass
class MailReport:
    lines: list[str] = field(default_factory=list)  # French, for the run summary
    queued: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)  # --dry-run: what would go
    problem: str = ""

    @property
    def needs_attention(self) -> bool:
        return bool(self.deferred or self.failed or self.problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "queued": self.queued,
            "sent": self.sent,
            "deferred": self.deferred,
            "failed": self.failed,
            "problem": self.problem,
            "planned": self.planned,
        }


def _off(settings: Settings) -> str:
    """Why nothing is sent at all, or ""."""
    if settings.demo_marker.exists():
        return "Courriels : démonstration, aucun courriel n'est envoyé."
    if settings.smtp is None:
        return "Courriels : aucun envoi, l'envoi n'est pas configuré (PTCE_SMTP_HOST)."
    return ""


def _queue(journal: OutboxJournal, messages: list[Message], at: str, cursor: int | None) -> None:
    records: list[dict] = [
        {"type": "queued", "key": m.key, "at": at, "message": m.to_dict()} for m in messages
    ]
    if cursor is not None:
        records.append({"type": "cursor", "journal_seq": cursor, "at": at})
    if records:
        journal.write(records)


def _decisions(
    settings: Settings, con, outbox: Outbox, start_seq: int | None
) -> tuple[list[Message], int]:
    """The decision messages after the cursor, up to what the live warehouse applied."""
    applied = mail_data.applied_seq(con)
    cursor = outbox.cursor
    if cursor is None:  # mail was just configured: from this run on, never the past
        cursor = applied if start_seq is None else min(start_seq, applied)
    records = [r for r in Journal(settings).read(after=cursor) if int(r["seq"]) <= applied]
    registry = load_registry(settings.registry_path)
    return produce.decision_messages(settings, con, registry, records, outbox), max(cursor, applied)


def _today(settings: Settings) -> dt.date:
    return settings.clock().astimezone(compose.PARIS).date()


def _produce(
    settings: Settings, *, start_seq: int | None, reminders: bool
) -> tuple[list[Message], int | None, Outbox]:
    journal = OutboxJournal(settings)
    outbox = read_outbox(journal)
    with mail_data.live_reader(settings) as con:
        if con is None:
            return [], None, outbox
        messages, cursor = _decisions(settings, con, outbox, start_seq)
        if reminders:
            registry = load_registry(settings.registry_path)
            today = _today(settings)
            messages += produce.reminder_messages(settings, con, registry, outbox, today)
            summary = produce.digest(settings, con, outbox, today)
            if summary is not None:
                messages.append(summary)
    return messages, cursor, outbox


def _notices(settings: Settings, outbox: Outbox, sent: Sent) -> list[Message]:
    """An address the server refused is reported to the national team, once per address."""
    out = []
    for key, address in sent.refused:
        notice = f"adresse-refusee:{address.lower()}"
        if notice in outbox.entries or not settings.digest_to:
            continue
        out.append(
            compose.notice_message(
                key=notice,
                to=produce.national_to(settings),
                title="PTCE — adresse électronique refusée",
                lines=[
                    f"Le serveur de messagerie a refusé l'adresse {address} (message {key}).",
                    "Corrigez-la dans la colonne « courriels » de poles.csv, ou demandez au pôle "
                    "de corriger le contact de sa déclaration.",
                ],
            )
        )
    return out


def _send(settings: Settings, report: MailReport, budget_s: float | None) -> None:
    from ptce_pipeline.mail.channels import send_all

    journal = OutboxJournal(settings)
    outbox = read_outbox(journal)
    sent = send_all(settings, journal, outbox.pending(), budget_s)
    notices = [n for n in _notices(settings, outbox, sent) if n.key not in outbox.entries]
    if notices:
        _queue(journal, notices, settings.clock().isoformat(), None)
        more = send_all(settings, journal, read_outbox(journal).pending(), budget_s)
        sent.sent += more.sent
        sent.failed += more.failed
        sent.deferred, sent.problem = more.deferred, more.problem or sent.problem
        sent.late = sent.late or more.late
    report.sent += len(sent.sent)
    report.failed += len(sent.failed)
    report.deferred = 0 if sent.late and not sent.problem else sent.deferred
    report.problem = sent.problem
    if sent.sent:
        report.lines.append(f"Courriels : {len(sent.sent)} envoyé(s).")
    if sent.deferred and sent.late and not sent.problem:
        report.lines.append(
            f"Courriels : {sent.deferred} en attente (limite de {budget_s:g} s par passage) ; "
            "envoyés aux passages suivants."
        )
    elif sent.deferred:
        report.lines.append(
            f"Courriels : {sent.deferred} en attente ({sent.problem}) ; nouvel essai au "
            "prochain passage."
        )
    for key, reason in sent.failed:
        report.lines.append(f"Courriel {key} non envoyé : {reason}.")
    for key, address in sent.refused:
        report.lines.append(f"Courriel {key} : adresse refusée par le serveur : {address}.")


def queue_run_mail(
    settings: Settings, *, start_seq: int | None = None, decided: bool = True
) -> MailReport:
    """At the end of an ingestion run, while it still holds the warehouse lock (local reads and
    one fsynced append, no network): queue the e-mails of its decisions. `start_seq`: the
    journal's last record before the run (the first time mail is configured, that run's
    decisions are the first mailed). `decided`: the run decided something (otherwise mail
    being off goes unsaid)."""
    report = _prepare(settings, start_seq=start_seq, reminders=False, dry_run=False)
    if not decided and _off(settings):
        report.lines = []
    return report


RUN_BUDGET_S = 60.0  # an ingestion run sends for a minute at most: the next run is not held up


def send_queued(
    settings: Settings, report: MailReport | None = None, *, budget_s: float | None = RUN_BUDGET_S
) -> MailReport:
    """Once the warehouse lock is released: send the pending messages of the outbox (for
    `budget_s` seconds at most; `remind` has no bound)."""
    report = report if report is not None else MailReport()
    if _off(settings) or report.planned:
        return report
    _send(settings, report, budget_s)
    if settings.smtp is not None and settings.smtp.problem and not report.deferred:
        report.problem = settings.smtp.problem  # said even with nothing to send
        report.lines.append(f"Courriels : envoi impossible ({settings.smtp.problem})")
    return report


def after_run(
    settings: Settings, *, start_seq: int | None = None, decided: bool = True
) -> MailReport:
    """Both steps, outside a run (the caller holds no lock): queue under the warehouse lock,
    send after it."""
    with _locked(settings) as free:
        if not free:
            return send_queued(settings, _busy())
        report = queue_run_mail(settings, start_seq=start_seq, decided=decided)
    return send_queued(settings, report)


def remind(settings: Settings, *, dry_run: bool = False) -> MailReport:
    """The daily flow `remind-poles` and `ptce remind`: reminders, the weekly digest, and the
    decisions' e-mails not sent yet. The due messages are queued under the warehouse lock (a
    run holding it: they wait for the next day, what is pending is sent all the same)."""
    with _locked(settings) as free:
        if not free:
            return send_queued(settings, _busy(), budget_s=None) if not dry_run else _busy()
        report = _prepare(settings, start_seq=None, reminders=True, dry_run=dry_run)
    return send_queued(settings, report, budget_s=None) if not dry_run else report


def waiting(settings: Settings) -> bool:
    """Mail has work a run would do: a pending message, or journal records (a review, a
    correction) not turned into messages yet. Cheap: the outbox and the journal's tail."""
    if _off(settings) or not settings.outbox_path.exists():
        return False
    try:
        outbox = read_outbox(OutboxJournal(settings))
        tail = Journal(settings).tail_seq()
    except OSError:
        return True
    return bool(outbox.pending()) or tail is None or (outbox.cursor or 0) < tail


def _busy() -> MailReport:
    line = "Courriels : l'entrepôt est occupé par un passage ; relances préparées au prochain."
    return MailReport(lines=[line], problem="entrepôt occupé")


@contextlib.contextmanager
def _locked(settings: Settings):
    """The warehouse lock, if free at once (no reader may keep the live file open while a run
    starts: it reads it only under the lock)."""
    if _off(settings) or not settings.warehouse_dir.is_dir():
        yield True
        return
    try:
        with warehouse_lock(settings.lock_path, what="courriels", now=settings.clock()):
            yield True
    except WarehouseBusy:
        yield False


def _prepare(
    settings: Settings, *, start_seq: int | None, reminders: bool, dry_run: bool
) -> MailReport:
    report = MailReport()
    off = _off(settings)
    if off:
        report.lines.append(off)
        return report
    target = settings.digest_to
    if target and not is_address(target) and "://" not in target:
        report.lines.append(
            f"Courriels : PTCE_DIGEST_TO n'est ni une adresse ni une adresse Apprise "
            f"(« {compose.clean(target, 80)} ») : la synthèse n'est pas envoyée."
        )
        settings = settings.with_(digest_to="")
    try:
        messages, cursor, outbox = _produce(settings, start_seq=start_seq, reminders=reminders)
    except (PtceError, OSError) as exc:  # the live warehouse unreadable: next run
        report.problem = str(exc)
        report.lines.append(f"Courriels : préparation remise au prochain passage ({exc}).")
        return report
    if dry_run:
        pending = [*(e.message for e in outbox.pending()), *(m.to_dict() for m in messages)]
        report.planned = [
            {"key": m["key"], "to": m["to"], "subject": m["subject"]} for m in pending
        ]
        report.lines.append(
            f"Courriels : {len(report.planned)} à envoyer (essai à blanc : rien n'est envoyé)."
        )
        return report
    moved = cursor if cursor != outbox.cursor else None
    _queue(OutboxJournal(settings), messages, settings.clock().isoformat(), moved)
    report.queued = len(messages)
    return report
