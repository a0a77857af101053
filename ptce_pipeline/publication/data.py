"""The figures behind the publications, computed with SQL on the analysts' snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SECRET_MIN = 3  # aggregates over fewer poles are masked ("secret statistique")


@dataclass
class PeriodData:
    period: int
    version: int
    indicators: pd.DataFrame  # national_indicators + labels
    values: pd.DataFrame  # current_indicator_values of the period
    previous: pd.DataFrame | None
    completeness: pd.DataFrame
    identity: pd.DataFrame  # pole × field (non-personal)
    members: pd.DataFrame
    criteria: pd.DataFrame
    closed_campaigns: list[int]
    submissions: list[int]
    referentiel_version: str
    extra: dict[str, Any] = field(default_factory=dict)


def periods_with_data(con) -> list[int]:
    rows = con.execute(
        "SELECT DISTINCT period FROM submissions WHERE period IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def period_version(con, period: int) -> int:
    row = con.execute("SELECT version FROM period_versions WHERE period = ?", [period]).fetchone()
    return int(row[0]) if row else 0


def load_period(con, period: int, referentiel_version: str) -> PeriodData:
    q = lambda sql, *p: con.execute(sql, list(p)).df()  # noqa: E731
    indicators = q(
        "SELECT * FROM national_indicators WHERE period = ? ORDER BY indicator_code", period
    )
    values = q(
        "SELECT pole_id, indicator_code, value, submission_id FROM current_indicator_values WHERE period = ?",
        period,
    )
    previous = q("SELECT * FROM national_indicators WHERE period = ?", period - 1)
    completeness = q("SELECT * FROM completeness WHERE period = ? ORDER BY pole_id", period)
    identity = q("SELECT pole_id, field, value FROM current_identity WHERE period = ?", period)
    members = q(
        "SELECT pole_id, member_no, categorie, forme_juridique, etp FROM current_members WHERE period = ?",
        period,
    )
    criteria = q(
        "SELECT pole_id, criterion_code, criterion_type, answer FROM current_criteria WHERE period = ?",
        period,
    )
    closed = [
        r[0] for r in con.execute("SELECT period FROM campaigns WHERE closed ORDER BY 1").fetchall()
    ]
    subs = [
        r[0]
        for r in con.execute(
            "SELECT submission_id FROM current_submissions WHERE period = ? ORDER BY 1", [period]
        ).fetchall()
    ]
    return PeriodData(
        period=period,
        version=period_version(con, period),
        indicators=indicators,
        values=values,
        previous=previous if len(previous) else None,
        completeness=completeness,
        identity=identity,
        members=members,
        criteria=criteria,
        closed_campaigns=closed,
        submissions=subs,
        referentiel_version=referentiel_version,
    )


def mask(n: Any) -> bool:
    try:
        return int(n) < SECRET_MIN
    except (TypeError, ValueError):
        return True
