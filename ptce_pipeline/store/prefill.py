"""A pole's earlier declaration, read whole from the live warehouse, to pre-fill its next
workbook: the declaration in force for the latest earlier period (`previous.
earlier_declarations`, the same rule as the `large-change` check), with its identity — the
contact too, which only the live warehouse holds —, members, criteria and indicator values.

Read under the warehouse lock by the caller (`ingestion.prepare`): the live file has one
writer, and a read between a run's swap and its checkpoint is not one to build a file on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.store.previous import earlier_declarations

MEMBER_FIELDS = ("nom", "siret", "categorie", "forme_juridique", "commune", "annee_adhesion", "etp")


@dataclass(frozen=True)
class Declaration:
    """What a pole declared for one period, as the warehouse stores it (codes, not labels)."""

    pole_id: str
    period: int
    submission_id: int
    template_version: str | None
    identity: dict[str, str | None] = field(default_factory=dict)  # contacts included
    members: list[dict[str, Any]] = field(default_factory=list)  # in their row order
    criteria: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    indicators: dict[str, float | None] = field(default_factory=dict)


def declarations_before(con, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Declaration]:
    """(pole, period) → its earlier declaration, for the pairs of `wanted` that have one."""
    earlier = earlier_declarations(con, wanted)
    return {key: _declaration(con, key[0], period, sid) for key, (period, sid) in earlier.items()}


def _declaration(con, pole_id: str, period: int, sid: int) -> Declaration:
    (version,) = con.execute(
        "SELECT template_version FROM submissions WHERE submission_id = ?", [sid]
    ).fetchone()
    identity: dict[str, str | None] = {}
    for table in ("identity_values", "contacts"):
        for key, value in con.execute(
            f"SELECT field, value FROM {table} WHERE submission_id = ? ORDER BY field", [sid]
        ).fetchall():
            identity[key] = value
    cols = ", ".join(MEMBER_FIELDS)
    members = [
        dict(zip(MEMBER_FIELDS, row, strict=True))
        for row in con.execute(
            f"SELECT {cols} FROM members WHERE submission_id = ? ORDER BY member_no", [sid]
        ).fetchall()
    ]
    criteria = {
        code: (answer, why)
        for code, answer, why in con.execute(
            "SELECT criterion_code, answer, justification FROM criteria_answers "
            "WHERE submission_id = ? ORDER BY criterion_code",
            [sid],
        ).fetchall()
    }
    indicators = dict(
        con.execute(
            "SELECT indicator_code, value FROM indicator_values WHERE submission_id = ? "
            "ORDER BY indicator_code",
            [sid],
        ).fetchall()
    )
    return Declaration(pole_id, period, sid, version, identity, members, criteria, indicators)
