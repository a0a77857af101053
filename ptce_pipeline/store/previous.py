"""The earlier period a declaration is compared with, and its indicator values.

One rule, `earlier_declarations`, says which earlier period that is: the latest period before
the declared one for which the pole has a declaration in force (an accepted submission). The
cross-period check (`large-change`, reading the analysts' snapshot through `previous_values`)
and the pre-filled workbook (its « Valeur AAAA » reference column, reading the live warehouse
through `store.prefill`) both use it, so they always name the same period."""

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


def earlier_declarations(
    con, wanted: set[tuple[str, int]]
) -> dict[tuple[str, int], tuple[int, int]]:
    """(pole, period) → (earlier period, submission id): for each pair of `wanted`, the
    declaration in force for the latest period before `period` (None when there is none: the
    pair is left out). `con`: the live warehouse or the snapshot (both have the views)."""
    if not wanted:
        return {}
    poles = sorted({p for p, _ in wanted})
    rows = con.execute(
        "SELECT pole_id, period, max(submission_id) FROM current_submissions "
        "WHERE pole_id IN (SELECT unnest(?)) AND period IS NOT NULL GROUP BY pole_id, period",
        [poles],
    ).fetchall()
    in_force: dict[str, dict[int, int]] = {}
    for pole, period, sid in rows:
        in_force.setdefault(pole, {})[int(period)] = int(sid)
    found: dict[tuple[str, int], tuple[int, int]] = {}
    for pole, period in wanted:
        earlier = [p for p in in_force.get(pole, {}) if p < period]
        if earlier:
            latest = max(earlier)
            found[(pole, period)] = (latest, in_force[pole][latest])
    return found


def previous_values(
    snapshot_db: Path, wanted: set[tuple[str, int]]
) -> dict[tuple[str, int], PeriodValues]:
    """(pole, declared period) → the indicator values of its earlier declaration
    (`earlier_declarations`), for the pairs of `wanted` the snapshot has. No snapshot, or one
    that cannot be read: nothing (the checks are then skipped)."""
    if not wanted or not snapshot_db.exists():
        return {}
    try:
        con = connect(snapshot_db, read_only=True)
    except Exception:
        return {}
    try:
        earlier = earlier_declarations(con, wanted)
        sids = sorted({sid for _, sid in earlier.values()})
        rows = con.execute(
            "SELECT submission_id, indicator_code, value FROM indicator_values "
            "WHERE submission_id IN (SELECT unnest(?)) AND value IS NOT NULL",
            [sids],
        ).fetchall()
    except Exception:
        earlier, rows = {}, []
    finally:
        con.close()
    values: dict[int, dict[str, float]] = {}
    for sid, code, value in rows:
        values.setdefault(sid, {})[code] = value
    return {
        key: PeriodValues(sid, period, dict(values.get(sid, {})))
        for key, (period, sid) in earlier.items()
    }
