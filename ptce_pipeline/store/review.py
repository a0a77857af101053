"""What the national team reviews: the declarations in force and their review state, read from
the analysts' snapshot (never waits for a run). The reviewer's detailed view of one submission
(its changes, warnings and history) is `store.review_view`."""

from __future__ import annotations

from typing import Any

from ptce_pipeline.store.records import ACCEPTED, REVIEW_STATES

REVIEW_COLUMNS = (
    "submission_id",
    "pole_id",
    "pole_name",
    "period",
    "status",
    "review_state",
    "n_warnings",
    "late",
    "original_name",
    "received_at",
    "reviewed_at",
    "reviewed_by",
    "review_comment",
)
# a_revoir first (what is waiting), then a_corriger (waiting for the pole), then validee
STATE_ORDER = {"a_revoir": 0, "a_corriger": 1, "validee": 2}


def review_rows(
    con, *, period: int | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """The declarations in force (accepted, current), with their review state: those waiting
    first, then by period (latest first) and pole."""
    where = ["list_contains(?, s.status)"]
    params: list[Any] = [list(ACCEPTED)]
    if period is not None:
        where.append("s.period = ?")
        params.append(period)
    if state is not None:
        if state not in REVIEW_STATES:
            raise ValueError(state)
        where.append("s.review_state = ?")
        params.append(state)
    rows = con.execute(
        f"""
        SELECT s.submission_id, s.pole_id, p.nom, s.period, s.status, s.review_state,
               s.n_warnings, s.late, s.original_name, s.received_at, s.reviewed_at,
               s.reviewed_by, s.review_comment
        FROM submissions s LEFT JOIN poles p USING (pole_id)
        WHERE {" AND ".join(where)}
        """,
        params,
    ).fetchall()
    out = [dict(zip(REVIEW_COLUMNS, r, strict=True)) for r in rows]
    out.sort(
        key=lambda r: (
            STATE_ORDER.get(r["review_state"], 3),
            -(r["period"] or 0),
            r["pole_id"] or "",
            r["submission_id"],
        )
    )
    return out


def review_counts(con, period: int) -> dict[str, int]:
    """How many declarations in force of `period` are in each review state."""
    rows = con.execute(
        "SELECT review_state, count(*) FROM submissions WHERE period = ? "
        "AND list_contains(?, status) GROUP BY review_state",
        [period, list(ACCEPTED)],
    ).fetchall()
    return {state: n for state, n in rows if state is not None}
