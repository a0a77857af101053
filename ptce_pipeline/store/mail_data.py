"""What the e-mails are made of, read from the live warehouse (read-only): a decision's
submission and first problems, the contact address of the declaration in force, the poles a
reminder is due to, the figures of the national team's digest.

The live warehouse is read under the warehouse lock (the end of a run, or `remind` taking it),
so no run starts while it is open. Contact addresses are personal data: they come from here and
go nowhere but into an e-mail and the outbox."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ptce_pipeline.config import Settings
from ptce_pipeline.store.records import ACCEPTED
from ptce_pipeline.store.warehouse import connect, get_meta

FIRST_PROBLEMS = 5


@dataclass(frozen=True)
class Decided:
    """One decision on a file of a registered pole, as the warehouse holds it."""

    submission_id: int
    delivery_id: int
    folder: str  # the pole's folder: who dropped the file (never the file's own claim)
    period: int | None
    original_name: str
    receipt: str | None  # paths relative to the home, as planned at the decision
    annotated: str | None
    n_errors: int
    n_warnings: int
    problems: tuple[tuple[str, str, str, str], ...]  # (sheet, cell, severity, message)
    status: str = ""  # as the live warehouse holds it now


@contextlib.contextmanager
def live_reader(settings: Settings) -> Iterator:
    """A read-only connection to the live warehouse; None when there is none yet."""
    if not settings.live_db.exists():
        yield None
        return
    con = connect(settings.live_db, read_only=True)
    try:
        yield con
    finally:
        con.close()


def applied_seq(con) -> int:
    """The last journal record the live warehouse has applied."""
    return int(get_meta(con, "journal_seq") or 0)


def decided(con, delivery_id: int, submission_id: int | None = None) -> Decided | None:
    """The submission a delivery (or a submission number) was decided as, with its first
    problems, errors first."""
    if submission_id is None:
        row = con.execute(
            "SELECT submission_id FROM deliveries WHERE delivery_id = ?", [delivery_id]
        ).fetchone()
        if row is None or row[0] is None:
            return None
        submission_id = int(row[0])
    row = con.execute(
        "SELECT inbox_folder, period, original_name, feedback_receipt, feedback_annotated, "
        "n_errors, n_warnings, status FROM submissions WHERE submission_id = ?",
        [submission_id],
    ).fetchone()
    if row is None:
        return None
    problems = con.execute(
        "SELECT coalesce(sheet, ''), coalesce(cell, ''), severity, message "
        "FROM validation_issues WHERE submission_id = ? "
        "ORDER BY CASE severity WHEN 'erreur' THEN 0 ELSE 1 END, seq LIMIT ?",
        [submission_id, FIRST_PROBLEMS],
    ).fetchall()
    return Decided(
        submission_id,
        delivery_id,
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        int(row[5] or 0),
        int(row[6] or 0),
        tuple(tuple(p) for p in problems),
        row[7],
    )


def contact_in_force(con, pole_id: str, period: int | None) -> str | None:
    """The contact e-mail of the pole's declaration in force for the period (its accepted
    current version): never from a refused or pending file."""
    if period is None:
        return None
    row = con.execute(
        "SELECT c.value FROM completeness k "
        "JOIN submissions s ON s.submission_id = k.submission_id "
        "JOIN contacts c ON c.submission_id = k.submission_id AND c.field = 'contact_email' "
        f"WHERE k.pole_id = ? AND k.period = ? AND s.inbox_folder = k.pole_id "
        f"AND k.status IN ({', '.join(repr(s) for s in ACCEPTED)})",
        [pole_id, period],
    ).fetchone()
    return (row[0] or "").strip() or None if row else None


@dataclass(frozen=True)
class Expected:
    """A pole expected for a period whose campaign is open, and where it stands."""

    period: int
    pole_id: str
    pole_name: str
    status: str
    deadline: dt.date
    n_errors: int | None


def expected_open(con) -> list[Expected]:
    """Every expected pole of every period whose campaign is not closed."""
    rows = con.execute(
        "SELECT period, pole_id, pole_name, status, deadline, n_errors FROM completeness "
        "WHERE NOT campaign_closed ORDER BY period, pole_id"
    ).fetchall()
    return [Expected(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]


def accepted(status: str) -> bool:
    return status in ACCEPTED


def files_in_error(con, since: dt.datetime) -> list[tuple[str, str, str]]:
    """Files our own fault kept from a decision (en_erreur), and files refused since `since`:
    (pole folder, file name, status)."""
    rows = con.execute(
        "SELECT inbox_folder, original_name, status FROM submissions "
        "WHERE status = 'en_erreur' OR (status = 'refusee' AND decided_at >= ?) "
        "ORDER BY inbox_folder, submission_id",
        [since],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def awaiting_review(con) -> list[tuple[str, int | None, int]]:
    """Accepted declarations the national team has not reviewed yet (issue 19's
    `review_state`): (pole, period, submission); none before that column exists."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'submissions'"
        ).fetchall()
    }
    if "review_state" not in columns:
        return []
    rows = con.execute(
        "SELECT pole_id, period, submission_id FROM submissions WHERE review_state = 'a_revoir' "
        f"AND status IN ({', '.join(repr(s) for s in ACCEPTED)}) ORDER BY pole_id, period"
    ).fetchall()
    return [(r[0], r[1], int(r[2])) for r in rows]
