"""What a publication rests on, read from the analysts' snapshot: the periods with data, the
version of a period's data (`period_versions`, bumped by every change), the campaigns.
Cheap queries (DuckDB only), so that `ptce publish` can tell at once that nothing changed."""

from __future__ import annotations


def periods_with_data(con) -> list[int]:
    rows = con.execute(
        "SELECT DISTINCT period FROM submissions WHERE period IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def period_version(con, period: int) -> int:
    row = con.execute("SELECT version FROM period_versions WHERE period = ?", [period]).fetchone()
    return int(row[0]) if row else 0


def campaign_rows(con) -> list[tuple]:
    """(period, deadline, closed, keep_unreviewed) of every campaign, by period."""
    return con.execute(
        "SELECT period, deadline, closed, keep_unreviewed FROM campaigns ORDER BY period"
    ).fetchall()
