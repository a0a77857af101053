"""Completeness of a period, read from the analysts' snapshot (never waits for a run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.config import Settings
from ptce_pipeline.store.warehouse import reader

# The order review states are counted in: what waits for the national team first.
REVIEW_ORDER = ("a_revoir", "a_corriger", "validee")
# The order statuses are listed in (the national team's weekly figure).
STATUS_ORDER = (
    "acceptee",
    "acceptee_avec_avertissements",
    "retenue",
    "refusee",
    "en_attente",
    "en_erreur",
    "retiree",
    "manquante",
)


@dataclass
class Status:
    period: int | None
    expected: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    late: int = 0
    poles: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    deadline: dt.date | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)  # en_attente / en_erreur
    held: list[dict[str, Any]] = field(default_factory=list)  # retenue
    snapshot_at: dt.datetime | None = None
    review_counts: dict[str, int] = field(default_factory=dict)  # declarations in force
    keep_unreviewed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The documented `ptce status --json` shape, and nothing else (keys are only ever
        added: `review_state` per pole and `review_counts` came with the national review)."""
        keys = ("pole_id", "pole_name", "status", "late", "last_received_at", "review_state")
        return {
            "period": self.period,
            "expected": self.expected,
            "counts": self.counts,
            "late": self.late,
            "poles": [{k: p[k] for k in keys} for p in self.poles],
            "review_counts": self.review_counts,
        }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def completeness(settings: Settings, period: int | None = None) -> dict[str, Any] | None:
    """The `--json` shape (None when there is no warehouse yet)."""
    status = period_status(settings, period)
    return None if status is None else status.to_json()


def period_status(settings: Settings, period: int | None = None) -> Status | None:
    """Completeness of `period` (default: the latest with data); None without a warehouse."""
    with reader(settings) as con:
        if con is None:
            return None
        if period is None:
            row = con.execute(
                "SELECT coalesce(max(period), (SELECT max(period) FROM campaigns)) FROM submissions"
            ).fetchone()
            period = row[0] if row else None
        if period is None:
            return Status(period=None)
        # by name: a snapshot written by an older version may have fewer columns
        cur = con.execute("SELECT * FROM completeness WHERE period = ? ORDER BY pole_id", [period])
        names = [d[0] for d in cur.description]
        found = cur.fetchall()
        campaign = con.execute(
            "SELECT deadline, closed, keep_unreviewed FROM campaigns WHERE period = ?", [period]
        ).fetchone() or (None, False, False)
        rows = [
            (
                r["pole_id"],
                r["pole_name"],
                r["status"],
                r["late"],
                r["last_received_at"],
                r["submission_id"],
                r.get("deadline", campaign[0]),
                r.get("campaign_closed", campaign[1]),
                r.get("review_state"),
            )
            for r in (dict(zip(names, row, strict=True)) for row in found)
        ]
        if not rows:  # a period with neither campaign nor file: every registered pole is missing
            deadline = dt.date(period + 1, 3, 31)
            rows = con.execute(
                "SELECT pole_id, nom, 'manquante', current_date > ?, NULL, NULL, ?, false, NULL "
                "FROM poles WHERE premiere_periode <= ? "
                "AND (derniere_periode IS NULL OR derniere_periode >= ?) ORDER BY pole_id",
                [deadline, deadline, period, period],
            ).fetchall()
        problems = con.execute(
            "SELECT submission_id, pole_id, period, original_name, status, attempts, last_error "
            "FROM submissions WHERE status IN ('en_erreur', 'en_attente') "
            "AND (period = ? OR period IS NULL) ORDER BY submission_id",
            [period],
        ).fetchall()
        held = con.execute(
            "SELECT submission_id, pole_id, original_name, received_at FROM submissions "
            "WHERE status = 'retenue' AND period = ? ORDER BY submission_id",
            [period],
        ).fetchall()
        changed = con.execute("SELECT max(changed_at) FROM period_versions").fetchone()
    poles = [
        {
            "pole_id": r[0],
            "pole_name": r[1],
            "status": r[2],
            "late": bool(r[3]),
            "last_received_at": _iso(r[4]),
            "submission_id": r[5],
            "review_state": r[8],
        }
        for r in rows
    ]
    review_counts = {state: 0 for state in REVIEW_ORDER}
    for p in poles:
        if p["review_state"] in review_counts:
            review_counts[p["review_state"]] += 1
    counts: dict[str, int] = {}
    for p in poles:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    order = {s: n for n, s in enumerate(STATUS_ORDER)}
    counts = dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))
    return Status(
        period=period,
        expected=len(poles),
        counts=counts,
        late=sum(p["late"] for p in poles),
        poles=poles,
        closed=bool(rows[0][7]) if rows else False,
        deadline=rows[0][6] if rows else None,
        problems=[
            {
                "submission_id": e[0],
                "pole_id": e[1],
                "period": e[2],
                "file": e[3],
                "status": e[4],
                "attempts": e[5],
                "reason": e[6],
            }
            for e in problems
        ],
        held=[
            {"submission_id": h[0], "pole_id": h[1], "file": h[2], "received_at": _iso(h[3])}
            for h in held
        ],
        snapshot_at=changed[0] if changed else None,
        review_counts=review_counts,
        keep_unreviewed=bool(campaign[2]),
    )


# the vocabulary's labels; the counts of `ptce status` say what the two waiting states mean
LABELS = {
    **vocabulary.STATUS,
    "en_attente": "en attente (incident de notre côté, nouvel essai au prochain passage)",
    "en_erreur": "en erreur (trois essais échoués)",
    "retiree": "retirée par l'équipe nationale",
}


def _fr_time(iso: str | None) -> str:
    if not iso:
        return "—"
    return vocabulary.short_datetime(dt.datetime.fromisoformat(iso), sep=" ")


def _review(state: str | None) -> str:
    return f"relecture : {vocabulary.label(state)}" if state else ""


def _review_lines(status: Status) -> list[str]:
    """The national review of the declarations in force, and what the figures rest on."""
    n = status.review_counts
    total = sum(n.values())
    if not total:
        return []
    parts = ", ".join(f"{vocabulary.label(s)} {n[s]}" for s in REVIEW_ORDER)
    out = [f"  relecture des {total} déclarations en vigueur : {parts}"]
    waiting = n.get("a_revoir", 0)
    if status.closed:
        excluded = n.get("a_corriger", 0) + (0 if status.keep_unreviewed else waiting)
        kept = " (les déclarations à relire y restent : --keep-unreviewed)"
        out.append(
            f"  chiffres définitifs sur {total - excluded} déclaration(s)"
            f"{kept if status.keep_unreviewed and waiting else ''} ; "
            f"{excluded} non validée(s) exclue(s)"
        )
    elif waiting or n.get("a_corriger", 0):
        out.append(
            "  les chiffres publics ne portent que sur les déclarations validées "
            "(à relire : ptce review list)"
        )
    return out


def lines(status: Status) -> list[str]:
    """The French text of `ptce status`."""
    if status.period is None:
        return ["Aucune période n'a encore de données."]
    closed = " — campagne close" if status.closed else ""
    deadline = f", date limite {status.deadline:%d/%m/%Y}" if status.deadline else ""
    out = [f"Période {status.period}{closed}{deadline} : {status.expected} pôles attendus."]
    for name, n in status.counts.items():
        out.append(f"  {LABELS.get(name, name)} : {n}")
    out.append(f"  en retard : {status.late}")
    out += _review_lines(status)
    out.append("")
    width = max((len(p["pole_name"] or "") for p in status.poles), default=10)
    swidth = max((len(vocabulary.label(p["status"])) for p in status.poles), default=10)
    rwidth = max((len(_review(p["review_state"])) for p in status.poles), default=0)
    for p in status.poles:
        late = "  en retard" if p["late"] else ""
        sid = f"dépôt n° {p['submission_id']}" if p["submission_id"] is not None else ""
        out.append(
            f"  {p['pole_id']:<10} {(p['pole_name'] or ''):<{width}}  "
            f"{vocabulary.label(p['status']):<{swidth}} "
            f"{_review(p['review_state']):<{rwidth}} "
            f"{_fr_time(p['last_received_at']):<16} {sid}{late}".rstrip()
        )
    if status.problems:
        out.append("")
        out.append("Dépôts non traités (incident de notre côté, pas une faute du pôle) :")
        for e in status.problems:
            out.append(
                f"  dépôt n° {e['submission_id']} ({e['pole_id']}, « {e['file']} ») "
                f"{vocabulary.label(e['status'])} "
                f"après {e['attempts']} essai(s) : {e['reason'] or 'raison inconnue'}"
            )
        if any(e["status"] == "en_erreur" for e in status.problems):
            out.append("  → une fois la cause corrigée : ptce reprocess --in-error")
    if status.held:
        out.append("")
        out.append(f"Dépôts retenus jusqu'à la réouverture de la campagne {status.period} :")
        for h in status.held:
            out.append(f"  dépôt n° {h['submission_id']} ({h['pole_id']}, « {h['file']} »)")
    return out
