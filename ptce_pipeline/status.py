"""Completeness of a period, read from the analysts' snapshot (never waits for a run)."""

from __future__ import annotations

from typing import Any

from .config import Settings
from .warehouse import reader


def completeness(settings: Settings, period: int | None = None) -> dict[str, Any] | None:
    with reader(settings) as con:
        if con is None:
            return None
        if period is None:
            row = con.execute(
                "SELECT max(period) FROM submissions WHERE period IS NOT NULL"
            ).fetchone()
            period = row[0] if row and row[0] is not None else None
            if period is None:
                row = con.execute("SELECT max(period) FROM campaigns").fetchone()
                period = row[0] if row else None
        if period is None:
            return {
                "period": None,
                "expected": 0,
                "counts": {},
                "late": 0,
                "poles": [],
                "errors": [],
            }
        rows = con.execute(
            "SELECT pole_id, pole_name, status, late, last_received_at, submission_id FROM completeness "
            "WHERE period = ? ORDER BY pole_id",
            [period],
        ).fetchall()
        if not rows:
            rows = con.execute(
                "SELECT pole_id, nom, 'manquante', false, NULL, NULL FROM poles WHERE premiere_periode <= ? "
                "AND (derniere_periode IS NULL OR derniere_periode >= ?) ORDER BY pole_id",
                [period, period],
            ).fetchall()
        errors = con.execute(
            "SELECT submission_id, pole_id, original_name, status, attempts, last_error FROM submissions "
            "WHERE status IN ('en_erreur', 'en_attente') ORDER BY submission_id"
        ).fetchall()
        closed = con.execute("SELECT closed FROM campaigns WHERE period = ?", [period]).fetchone()
    poles = [
        {
            "pole_id": r[0],
            "pole_name": r[1],
            "status": r[2],
            "late": bool(r[3]),
            "last_received_at": r[4].isoformat() if r[4] is not None else None,
            "submission_id": r[5],
        }
        for r in rows
    ]
    counts: dict[str, int] = {}
    for p in poles:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    return {
        "period": period,
        "expected": len(poles),
        "counts": counts,
        "late": sum(p["late"] for p in poles),
        "closed": bool(closed[0]) if closed else False,
        "poles": poles,
        "errors": [
            {
                "submission_id": e[0],
                "pole_id": e[1],
                "file": e[2],
                "status": e[3],
                "attempts": e[4],
                "reason": e[5],
            }
            for e in errors
        ],
    }
