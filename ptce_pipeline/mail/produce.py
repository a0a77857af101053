"""Which messages are due: one per decision that changes something for a pole (read from the
journal after the outbox's cursor), the reminders before and after each open deadline, the
national team's weekly digest. Each message has a stable key; a key already in the outbox is
never produced again.

Recipients come from two places only: the `courriels` of the pole in poles.csv, and the
contact e-mail of the pole's declaration in force (an accepted file of its own folder) —
never an address read from a refused, pending or unregistered file."""

from __future__ import annotations

import datetime as dt

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.catalogue.registry import Pole, Registry
from ptce_pipeline.config import Settings, is_address
from ptce_pipeline.mail import compose
from ptce_pipeline.mail.compose import DECISION_KINDS, MILESTONES, REVIEW_KINDS, Message
from ptce_pipeline.mail.send import ATTACHMENTS_CAP, read_attachment
from ptce_pipeline.store import mail_data
from ptce_pipeline.store.outbox import Outbox

PARIS = compose.PARIS


def recipients(con, pole: Pole, period: int | None) -> list[str]:
    """The pole's addresses from the registry, then its declaration in force's contact."""
    out: list[str] = []
    for address in (*pole.courriels, mail_data.contact_in_force(con, pole.pole_id, period)):
        if address and is_address(address) and address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return out


def _attachments(settings: Settings, d: mail_data.Decided) -> tuple[list[str], str]:
    files = [f for f in (d.receipt, d.annotated) if f]
    sizes = {}
    for relative in files:
        data = read_attachment(settings, relative)
        if data is not None:
            sizes[relative] = len(data)
    if sizes and sum(sizes.values()) <= ATTACHMENTS_CAP:
        return list(sizes), ""
    return [], (
        "L'accusé de réception et la copie annotée ne sont pas joints (trop volumineux ou "
        f"indisponibles) : retrouvez-les dans le dossier « retours » de votre dossier de dépôt "
        f"({d.folder}/retours/) ou sur le portail."
    )


def _decision(
    settings: Settings,
    con,
    registry: Registry,
    *,
    key: str,
    kind: str,
    d: mail_data.Decided,
    comment: str = "",
) -> Message | None:
    pole = registry.poles.get(d.folder)
    if pole is None:  # an unregistered folder: nobody to write to, and nobody we may
        return None
    to = recipients(con, pole, d.period)
    if not to:
        return None
    if kind in REVIEW_KINDS:  # the national team's notice is in the pole's retours/
        files, elsewhere = (
            [],
            (
                "L'avis de l'équipe nationale est aussi dans le dossier « retours » de votre "
                f"dossier de dépôt ({d.folder}/retours/) et sur le portail."
            ),
        )
    else:
        files, elsewhere = _attachments(settings, d)
    return compose.decision_message(
        key=key,
        kind=kind,
        to=to,
        pole=pole.pole_id,
        pole_name=pole.nom,
        period=d.period,
        submission=d.submission_id,
        file_name=d.original_name,
        problems=list(d.problems),
        n_errors=d.n_errors,
        n_warnings=d.n_warnings,
        portal_url=settings.portal_url,
        attachments=files,
        elsewhere=elsewhere,
        comment=comment,
    )


def message_for_record(settings: Settings, con, registry: Registry, rec: dict) -> Message | None:
    """The e-mail a journal record calls for, if any: a decision that changes something for a
    pole (a new file accepted, accepted with warnings or refused — not a duplicate; a file
    validated again by `ptce reprocess` into another status), or a national review decision
    (issue 19: `review` records, `validee` / `a_corriger`)."""
    kind = rec.get("type")
    if kind == "decision":
        status = rec.get("status")
        if rec.get("outcome") != "nouvelle" or status not in DECISION_KINDS:
            return None
        d = mail_data.decided(con, int(rec["delivery"]))
        if d is None:
            return None
        key = f"decision:{d.submission_id}:{status}"
        return _decision(settings, con, registry, key=key, kind=status, d=d)
    if kind == "reprocess" and rec.get("submission") is not None:
        # validated again by `ptce reprocess`: mailed when the status it reached was never
        # mailed for that submission (the same decision again changes nothing for the pole)
        d = mail_data.decided(con, 0, int(rec["submission"]))
        if d is None or d.status not in DECISION_KINDS:
            return None
        key = f"decision:{d.submission_id}:{d.status}"
        return _decision(settings, con, registry, key=key, kind=d.status, d=d)
    if kind == "review":
        decision = rec.get("decision")
        if decision not in REVIEW_KINDS or rec.get("submission") is None:
            return None
        d = mail_data.decided(con, 0, int(rec["submission"]))
        if d is None:
            return None
        key = f"revue:{d.submission_id}:{decision}:{rec.get('seq')}"
        comment = str(rec.get("comment") or "")
        return _decision(settings, con, registry, key=key, kind=decision, d=d, comment=comment)
    return None


def decision_messages(
    settings: Settings, con, registry: Registry, records: list[dict], outbox: Outbox
) -> list[Message]:
    out = []
    for rec in records:
        msg = message_for_record(settings, con, registry, rec)
        if msg is not None and msg.key not in outbox.entries:
            out.append(msg)
    return out


def due_milestone(deadline: dt.date, today: dt.date) -> str | None:
    """The latest milestone reached on `today` (J-30, J-7, J-1, J+1), or None."""
    due = [m for m, days in MILESTONES.items() if deadline + dt.timedelta(days=days) <= today]
    return max(due, key=MILESTONES.__getitem__) if due else None


def reminder_messages(
    settings: Settings, con, registry: Registry, outbox: Outbox, today: dt.date
) -> list[Message]:
    """One reminder per expected pole without an accepted declaration for a period whose
    campaign is open: the latest milestone reached, unless it (or a later one) went already.
    After a gap, the milestones missed in between are never sent."""
    out = []
    for e in mail_data.expected_open(con):
        if mail_data.accepted(e.status):
            continue
        pole = registry.poles.get(e.pole_id)
        milestone = due_milestone(e.deadline, today)
        if pole is None or milestone is None:
            continue
        later = [m for m, days in MILESTONES.items() if days >= MILESTONES[milestone]]
        if any(f"relance:{e.pole_id}:{e.period}:{m}" in outbox.entries for m in later):
            continue
        to = recipients(con, pole, e.period) or recipients(con, pole, e.period - 1)
        if not to:
            continue
        out.append(
            compose.reminder_message(
                key=f"relance:{e.pole_id}:{e.period}:{milestone}",
                to=to,
                pole=e.pole_id,
                pole_name=pole.nom,
                period=e.period,
                milestone=milestone,
                deadline=e.deadline,
                status=e.status,
                portal_url=settings.portal_url,
            )
        )
    return out


def digest_key(today: dt.date) -> str:
    year, week, _day = today.isocalendar()
    return f"synthese:{year}-S{week:02d}"


def digest(
    settings: Settings, con, outbox: Outbox, today: dt.date, *, force: bool = False
) -> Message | None:
    """The national team's weekly digest, from its day of the week on (once a week)."""
    key = digest_key(today)
    if not settings.digest_to or key in outbox.entries:
        return None
    if today.weekday() < settings.digest_weekday and not force:
        return None
    expected = mail_data.expected_open(con)
    sections: list[tuple[str, list[str]]] = []
    completeness = []
    for period in sorted({e.period for e in expected}):
        rows = [e for e in expected if e.period == period]
        done = sum(mail_data.accepted(e.status) for e in rows)
        completeness.append(
            f"{period} : {done} déclaration(s) acceptée(s) sur {len(rows)} attendue(s), date "
            f"limite le {vocabulary.long_date(rows[0].deadline)}"
        )
    sections.append(("Complétude des campagnes ouvertes", completeness))
    late = [
        f"{e.pole_id} ({compose.clean(e.pole_name)}), période {e.period}"
        for e in expected
        if not mail_data.accepted(e.status) and e.deadline < today
    ]
    sections.append(("Pôles en retard", late))
    since = dt.datetime.combine(today - dt.timedelta(days=7), dt.time(), PARIS)
    sections.append(
        (
            "Fichiers en erreur ou refusés depuis 7 jours",
            [
                f"{folder} : {compose.clean(name)} ({compose.vocabulary.label(status)})"
                for folder, name, status in mail_data.files_in_error(con, since)
            ],
        )
    )
    sections.append(
        (
            "Déclarations en attente de revue",
            [
                f"{pole}, période {period} (dépôt n° {sid})"
                for pole, period, sid in mail_data.awaiting_review(con)
            ],
        )
    )
    year, week, _ = today.isocalendar()
    return compose.digest_message(
        key=key, to=national_to(settings), week=f"{week} de {year}", sections=sections
    )


def national_to(settings: Settings) -> list[str]:
    """The digest's recipients: an e-mail address, or [] for an Apprise URL."""
    return [settings.digest_to] if is_address(settings.digest_to) else []
