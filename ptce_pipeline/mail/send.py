"""Sending the outbox's pending messages through SMTP, once each.

Around each message: an `intent` record (appended, fsynced), the SMTP transaction, a `sent`
record — so a process killed in between sends that message again at the next run (twice at
most) and never loses it. Short timeouts; the first connection failure ends the batch (the
rest waits for the next run), so a server that is down never slows a run for long. The
messages go out at the configured rate (`PTCE_SMTP_RATE` per minute)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import smtplib
import socket
import ssl
import stat
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from ptce_pipeline.config import Settings, Smtp
from ptce_pipeline.faults import fault_point
from ptce_pipeline.fsafe import open_dir
from ptce_pipeline.mail.compose import Message
from ptce_pipeline.store.outbox import Entry, OutboxJournal

ATTACHMENTS_CAP = 5 * 1024 * 1024  # beyond it, the e-mail says where the files are
TYPES = {".html": ("text", "html"), ".xlsx": ("application", "octet-stream")}


@dataclass
class Sent:
    """What one sending batch did."""

    sent: list[str] = field(default_factory=list)  # keys
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, reason): permanent
    refused: list[tuple[str, str]] = field(default_factory=list)  # (key, address)
    deferred: int = 0  # left for the next run
    problem: str = ""  # why the batch stopped (server down, refused login…), French
    late: bool = False  # stopped at the run's time budget (a deadline burst): not a fault


def read_attachment(settings: Settings, relative: str) -> bytes | None:
    """A feedback file of a pole (`inbox/<pole>/retours/<name>`), read without following any
    link (a pole controls that folder); None when it is not a plain file there."""
    parts = Path(relative).parts
    if len(parts) != 4 or parts[0] != "inbox" or parts[2] != "retours":
        return None
    try:
        with open_dir(settings.inbox, parts[1], parts[2]) as dir_fd:
            fd = os.open(parts[3], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > ATTACHMENTS_CAP:
                    return None
                return fh.read(ATTACHMENTS_CAP + 1)
    except (OSError, ValueError):
        return None


def build_email(settings: Settings, smtp: Smtp, msg: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = ", ".join(msg.to)
    mail["Subject"] = msg.subject
    mail["Date"] = formatdate(settings.clock().timestamp(), localtime=False)
    # one Message-ID per key: a copy sent twice (a run killed mid-send) is recognisably the same
    digest = hashlib.sha256(msg.key.encode("utf-8")).hexdigest()[:32]
    mail["Message-ID"] = f"<ptce.{digest}@{smtp.sender.rpartition('@')[2]}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(msg.text)
    mail.add_alternative(msg.html, subtype="html")
    for relative in msg.attachments:
        data = read_attachment(settings, relative)
        if data is None:
            continue
        name = Path(relative).name
        maintype, subtype = TYPES.get(Path(name).suffix, ("application", "octet-stream"))
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def connect(smtp: Smtp) -> smtplib.SMTP:
    """A logged-in SMTP session, within the timeout."""
    context = ssl.create_default_context()
    if smtp.security == "tls":
        session: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout_s, context=context
        )
    else:
        session = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        if smtp.security == "starttls":
            session.starttls(context=context)
    if smtp.user:
        session.login(smtp.user, smtp.password)
    return session


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "le serveur SMTP a refusé l'identifiant ou le mot de passe"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if exc.smtp_error else ""
        return f"le serveur SMTP a répondu {exc.smtp_code} {text[:200]}".strip()
    if isinstance(exc, socket.timeout | TimeoutError):
        return "le serveur SMTP ne répond pas (délai dépassé)"
    if isinstance(exc, ssl.SSLError):
        return f"échec du chiffrement avec le serveur SMTP ({exc.reason or exc})"
    if isinstance(exc, OSError):
        return f"serveur SMTP injoignable ({exc.strerror or exc})"
    return f"erreur SMTP ({exc})"


def send_pending(
    settings: Settings,
    journal: OutboxJournal,
    pending: list[Entry],
    *,
    budget_s: float | None = None,
    now=time.monotonic,
) -> Sent:
    """Send the pending messages, in order, at the configured rate; with `budget_s`, stop
    starting new ones after that many seconds (the rest waits for the next run)."""
    out = Sent()
    smtp = settings.smtp
    if not pending:
        return out
    if smtp is None or smtp.problem:
        out.deferred = len(pending)
        out.problem = smtp.problem if smtp else "PTCE_SMTP_HOST n'est pas réglé"
        return out
    try:
        session = connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        out.deferred, out.problem = len(pending), _why(exc)
        return out
    interval = 60.0 / smtp.rate_per_minute
    last, started = None, now()
    try:
        for entry in pending:
            # the next message would start after the budget: it waits (the first always goes)
            if budget_s is not None and last is not None and last + interval - started > budget_s:
                out.deferred = len(pending) - len(out.sent) - len(out.failed)
                out.late = True
                break
            if last is not None:
                wait = interval - (now() - last)
                if wait > 0:
                    time.sleep(wait)
            last = now()
            msg = Message.from_dict(entry.message)
            mail = build_email(settings, smtp, msg)
            _record(journal, settings, "intent", entry.key)
            try:
                refused = session.send_message(mail, from_addr=smtp.sender, to_addrs=msg.to)
            except smtplib.SMTPRecipientsRefused as exc:
                if not all(500 <= code < 600 for code, _m in exc.recipients.values()):
                    raise  # a temporary refusal (greylisting): next run
                reason = "adresse(s) refusée(s) : " + ", ".join(sorted(exc.recipients))
                _record(journal, settings, "failed", entry.key, reason=reason)
                out.failed.append((entry.key, reason))
                out.refused += [(entry.key, a) for a in sorted(exc.recipients)]
                continue
            except smtplib.SMTPResponseException as exc:
                if 500 <= exc.smtp_code < 600 and not isinstance(
                    exc, smtplib.SMTPServerDisconnected
                ):
                    reason = _why(exc)
                    _record(journal, settings, "failed", entry.key, reason=reason)
                    out.failed.append((entry.key, reason))
                    continue
                raise
            fault_point(settings, "mail_after_send")  # accepted, not yet recorded: sent again
            _record(journal, settings, "sent", entry.key, refused=sorted(refused))
            out.sent.append(entry.key)
            out.refused += [(entry.key, a) for a in sorted(refused)]
    except (OSError, smtplib.SMTPException) as exc:
        out.problem = _why(exc)
        out.deferred = len(pending) - len(out.sent) - len(out.failed)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            session.quit()
    return out


def _record(journal: OutboxJournal, settings: Settings, kind: str, key: str, **extra) -> None:
    journal.write([{"type": kind, "key": key, "at": settings.clock().isoformat(), **extra}])
