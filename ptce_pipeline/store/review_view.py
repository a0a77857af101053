"""The reviewer's view of one submission: what it is, its review state, its warnings and its
history. Read from the analysts' snapshot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ptce_pipeline.catalogue import vocabulary


@dataclass
class ReviewView:
    facts: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def plain(v):
            return v.isoformat() if hasattr(v, "isoformat") else v

        data = asdict(self)
        data["facts"] = {k: plain(v) for k, v in data["facts"].items()}
        data["history"] = [{k: plain(v) for k, v in h.items()} for h in data["history"]]
        return data

    def lines(self) -> list[str]:
        f = self.facts
        out = [
            f"Dépôt n° {f['submission_id']} — {f['pole_id']} {f.get('pole_name') or ''} — "
            f"période {f['period']} — « {f['original_name']} »",
            f"Statut : {vocabulary.label(f['status'])} ; relecture : "
            f"{vocabulary.label(f['review_state'])}",
        ]
        if f.get("review_comment"):
            out.append(f"Commentaire : « {f['review_comment']} »")
        out.append(f"Avertissements : {len(self.warnings)}")
        for w in self.warnings:
            out.append(f"  {w['sheet']}!{w['cell']} [{w['code']}] {w['message']}")
        out.append("Historique :")
        for h in self.history:
            out.append(f"  {h['done_at']:%d/%m/%Y %H:%M} {h['action']} par {h['by_user']}")
        return out


def review_view(con, sid: int) -> ReviewView | None:
    cur = con.execute(
        "SELECT s.*, p.nom AS pole_name FROM submissions s LEFT JOIN poles p USING (pole_id) "
        "WHERE submission_id = ?",
        [sid],
    )
    row = cur.fetchone()
    if row is None:
        return None
    facts = dict(zip([d[0] for d in cur.description], row, strict=True))
    warnings = [
        dict(zip(("sheet", "cell", "code", "message", "value"), r, strict=True))
        for r in con.execute(
            "SELECT sheet, cell, code, message, value FROM validation_issues "
            "WHERE submission_id = ? AND severity = 'avertissement' ORDER BY seq",
            [sid],
        ).fetchall()
    ]
    history = [
        dict(zip(("done_at", "by_user", "action", "reason"), r, strict=True))
        for r in con.execute(
            "SELECT done_at, by_user, action, reason FROM audit WHERE submission_id = ? "
            "ORDER BY audit_id",
            [sid],
        ).fetchall()
    ]
    return ReviewView(facts, warnings, history)
