"""Where each pending message goes: SMTP for the messages with addresses, Apprise for the
national team's digest and notices when `PTCE_DIGEST_TO` is an Apprise URL (Apprise comes
with Prefect). The same intent / sent records around each, either way."""

from __future__ import annotations

import warnings

from ptce_pipeline.config import Settings
from ptce_pipeline.faults import fault_point
from ptce_pipeline.mail.compose import Message
from ptce_pipeline.mail.send import Sent, send_pending
from ptce_pipeline.store.outbox import Entry, OutboxJournal


def send_apprise(settings: Settings, journal: OutboxJournal, entries: list[Entry]) -> Sent:
    if not entries:
        return Sent()
    with warnings.catch_warnings():  # Apprise's plugins import modules deprecated in 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        return _send_apprise(settings, journal, entries)


def _send_apprise(settings: Settings, journal: OutboxJournal, entries: list[Entry]) -> Sent:
    import apprise

    out = Sent()
    target = apprise.Apprise()
    if not target.add(settings.digest_to):
        out.problem = "PTCE_DIGEST_TO : adresse Apprise non reconnue"
        out.deferred = len(entries)
        return out
    for entry in entries:
        msg = Message.from_dict(entry.message)
        at = settings.clock().isoformat()
        journal.write([{"type": "intent", "key": entry.key, "at": at}])
        if not target.notify(title=msg.subject, body=msg.text):
            out.problem = "le service de notification (Apprise) n'a pas accepté le message"
            out.deferred = len(entries) - len(out.sent)
            return out
        fault_point(settings, "mail_after_send")
        journal.write([{"type": "sent", "key": entry.key, "at": settings.clock().isoformat()}])
        out.sent.append(entry.key)
    return out


def send_all(
    settings: Settings,
    journal: OutboxJournal,
    entries: list[Entry],
    budget_s: float | None = None,
) -> Sent:
    """Send every pending entry through its channel → what was done, merged."""
    by_apprise = [e for e in entries if not e.message.get("to")]
    by_smtp = [e for e in entries if e.message.get("to")]
    if not settings.digest_to or "://" not in settings.digest_to:
        by_apprise = []  # a digest queued for a URL since removed: it waits
    out = send_pending(settings, journal, by_smtp, budget_s=budget_s)
    other = send_apprise(settings, journal, by_apprise)
    out.sent += other.sent
    out.failed += other.failed
    out.deferred += other.deferred
    out.problem = out.problem or other.problem
    return out
