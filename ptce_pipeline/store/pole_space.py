"""What the portal shows, read from the analysts' snapshot only (the portal never opens the
live warehouse, so it never waits for a run and a run never waits for it). Every query about a
pole's files takes the pole's folder: a pole's pages are built from its own rows only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ptce_pipeline.config import Settings
from ptce_pipeline.store.warehouse import reader

ACCEPTED = ("acceptee", "acceptee_avec_avertissements")


def snapshot(settings: Settings):
    """A read-only connection on the snapshot, or None before the first run."""
    return reader(settings, snapshot_only=True)


def _rows(cur) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def pole_deliveries(con, pole_id: str) -> list[dict[str, Any]]:
    """Every file that arrived in the pole's folder, newest first, with the submission it
    became (its status, period, late flag, counts)."""
    if con is None:
        return []
    return _rows(
        con.execute(
            "SELECT d.delivery_id, d.received_at, d.original_name, d.size, d.outcome,"
            " s.submission_id, s.period, s.status, s.late, s.n_errors, s.n_warnings"
            " FROM deliveries d LEFT JOIN submissions s"
            "   ON s.submission_id = d.submission_id AND s.inbox_folder = d.inbox_folder"
            " WHERE d.inbox_folder = ? ORDER BY d.delivery_id DESC",
            [pole_id],
        )
    )


def pole_periods(con, pole_id: str) -> list[dict[str, Any]]:
    """The pole's completeness for each period: status, late flag, deadline, what is in
    force (submission and file) and its review state (with the date and the reviewer's
    comment)."""
    if con is None:
        return []
    return _rows(
        con.execute(
            "SELECT c.period, c.status, c.late, c.deadline, c.campaign_closed, c.submission_id,"
            " s.original_name, s.received_at, s.review_state, s.reviewed_at, s.review_comment"
            " FROM completeness c LEFT JOIN submissions s"
            "   ON s.submission_id = c.submission_id AND s.inbox_folder = c.pole_id"
            " WHERE c.pole_id = ? ORDER BY c.period DESC",
            [pole_id],
        )
    )


def archived_file(con, pole_id: str, submission_id: int) -> tuple[str, str] | None:
    """(archived path relative to the home, original name) of a submission of this pole's
    folder; None for anyone else's."""
    if con is None:
        return None
    row = con.execute(
        "SELECT archived_path, original_name FROM submissions"
        " WHERE submission_id = ? AND inbox_folder = ?",
        [submission_id, pole_id],
    ).fetchone()
    return (row[0], row[1]) if row else None


def national_completeness(con, period: int | None) -> tuple[int | None, list[dict[str, Any]]]:
    """The national team's live view of one period (default: the latest): every expected
    pole with its status, late flag, errors and warnings."""
    if con is None:
        return None, []
    if period is None:
        row = con.execute("SELECT max(period) FROM completeness").fetchone()
        period = row[0] if row else None
    if period is None:
        return None, []
    rows = _rows(
        con.execute(
            "SELECT pole_id, pole_name, status, late, last_received_at, submission_id, deadline,"
            " campaign_closed, n_errors, n_warnings FROM completeness WHERE period = ?"
            " ORDER BY pole_id",
            [period],
        )
    )
    return period, rows


def periods(con) -> list[int]:
    if con is None:
        return []
    rows = con.execute("SELECT DISTINCT period FROM completeness ORDER BY 1 DESC").fetchall()
    return [r[0] for r in rows]


def campaign(con, period: int) -> dict[str, Any] | None:
    if con is None:
        return None
    row = con.execute(
        "SELECT deadline, closed FROM campaigns WHERE period = ?", [period]
    ).fetchone()
    return {"deadline": row[0], "closed": bool(row[1])} if row else None


def snapshot_time(con) -> dt.datetime | None:
    if con is None:
        return None
    row = con.execute("SELECT max(changed_at) FROM period_versions").fetchone()
    return row[0] if row else None


def period_files(con, period: int) -> list[dict[str, Any]]:
    """The file in force of every pole for `period` (the national team's campaign download)."""
    if con is None:
        return []
    return _rows(
        con.execute(
            "SELECT c.pole_id, s.submission_id, s.original_name, s.archived_path, s.status"
            " FROM completeness c JOIN submissions s"
            "   ON s.submission_id = c.submission_id AND s.inbox_folder = c.pole_id"
            " WHERE c.period = ? AND s.status IN ('acceptee', 'acceptee_avec_avertissements')"
            " ORDER BY c.pole_id",
            [period],
        )
    )
