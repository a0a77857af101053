"""The indicator values of the previous period of each pole, read from the analysts'
snapshot (never from the live warehouse), for the cross-period checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline.store.warehouse import connect


@dataclass(frozen=True)
class PeriodValues:
    """The submission in force for one pole and period, and its indicator values."""

    submission_id: int
    period: int
    values: dict[str, float] = field(default_factory=dict)


def in_force(con, pole_id: str, period: int) -> int | None:
    """The submission in force for one pole and period on an open connection: the one whose
    values `previous_values` gives (both read the `current_submissions` view), so that the
    reviewer's comparison with the previous period and the `large-change` check agree."""
    row = con.execute(
        "SELECT max(submission_id) FROM current_submissions WHERE pole_id = ? AND period = ?",
        [pole_id, period],
    ).fetchone()
    return row[0] if row else None


def previous_values(
    snapshot_db: Path, wanted: set[tuple[str, int]]
) -> dict[tuple[str, int], PeriodValues]:
    """(pole, period) → the values in force, for the pairs of `wanted` the snapshot has.
    No snapshot, or one that cannot be read: nothing (the checks are then skipped)."""
    if not wanted or not snapshot_db.exists():
        return {}
    try:
        con = connect(snapshot_db, read_only=True)
    except Exception:
        return {}
    try:
        poles = sorted({p for p, _ in wanted})
        rows = con.execute(
            "SELECT pole_id, period, submission_id, indicator_code, value "
            "FROM current_indicator_values "
            "WHERE pole_id IN (SELECT unnest(?)) AND value IS NOT NULL",
            [poles],
        ).fetchall()
    except Exception:
        rows = []
    finally:
        con.close()
    found: dict[tuple[str, int], PeriodValues] = {}
    for pole, period, sid, code, value in rows:
        if (pole, period) in wanted:
            found.setdefault((pole, period), PeriodValues(sid, period)).values[code] = value
    return found
