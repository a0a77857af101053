"""What the review pages show, in French, from a `ReviewView`: its changes grouped by what they
compare with and by kind, its warnings beside the pole's own comment, its history. Pure: the
routes (`review_routes`) and the tests hand it the view's lists (docs/conventions.md, the
review view's `changes`)."""

from __future__ import annotations

import json
from typing import Any

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.store.records import ACCEPTED

KINDS = {
    "identity": "Identité",
    "value": "Indicateurs",
    "member": "Membres",
    "criterion": "Critères",
}
CHANGES = {"added": "ajouté", "removed": "retiré", "changed": "modifié"}
ACTIONS = {
    "review": "décision de relecture",
    "review_migration": "validée par la migration",
    "withdraw": "retrait",
    "reprocess": "nouveau traitement",
    "reinstate": "remise en vigueur",
}
# after a decision: (one declaration, several)
CONFIRMATIONS = {
    "validee": ("Déclaration validée.", "{n} déclarations validées."),
    "a_corriger": (
        "Déclaration renvoyée au pôle avec votre commentaire : il le lit dans son espace.",
        "{n} déclarations renvoyées à leur pôle avec votre commentaire.",
    ),
    "inchange": (
        "Rien à changer : la décision était déjà enregistrée.",
        "Décisions enregistrées (celles qui l'étaient déjà n'ont pas changé).",
    ),
}


def view_context(view) -> dict[str, Any]:
    """What `relecture_depot.html` shows of a `ReviewView`: its facts, whether a decision can
    be taken (a declaration in force), its changes, warnings and history."""
    facts = view.facts
    return {
        "f": facts,
        "decidable": facts.get("status") in ACCEPTED,
        "groups": change_groups(
            getattr(view, "changes", None) or [], getattr(view, "compared", None)
        ),
        "warnings": warning_rows(view.warnings),
        "history": history_rows(view.history),
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _row(c: dict[str, Any]) -> dict[str, str]:
    key, label, field = _text(c.get("key")), _text(c.get("label")), _text(c.get("field"))
    what = label or key
    if key and label and key != label and c.get("kind") in ("value", "criterion"):
        what = f"{label} ({key})"
    if field:
        what = f"{what} — {field}"
    sheet, cell = _text(c.get("sheet")), _text(c.get("cell"))
    return {
        "what": what,
        "change": CHANGES.get(_text(c.get("change")), _text(c.get("change"))),
        "where": f"{sheet} {cell}".strip() if sheet or cell else "",
        "before": _text(c.get("before")),
        "after": _text(c.get("after")),
    }


def change_groups(
    changes: list[dict[str, Any]], compared: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Two groups, since the pole's previous submission for this period and since its previous
    period: each with its state (`changes`, `none`: nothing changed, `first`: nothing earlier
    to compare with) and its changes by kind (identity, values, members, criteria).
    `compared` (the view's): what each group was compared with, None for nothing earlier."""
    groups = []
    for against in ("submission", "period"):
        mine = [c for c in changes if c.get("against") == against]
        real = [c for c in mine if c.get("against_id") is not None and c.get("change")]
        ids = {c.get("against_id") for c in real}
        periods = {c.get("against_period") for c in mine if c.get("against_period") is not None}
        other = (compared or {}).get(against)
        if other:
            ids = {other.get("submission_id")}
            periods = {other.get("period")}
        if against == "submission":
            title = "Depuis le dépôt précédent du pôle pour cette période"
            if len(ids) == 1:
                title += f" (n° {next(iter(ids))})"
            first = "Pas de dépôt antérieur du pôle pour cette période."
        else:
            title = "Depuis la période précédente"
            if len(periods) == 1:
                title = f"Depuis la déclaration {next(iter(periods))} du pôle"
            first = "Pas de déclaration du pôle pour une période antérieure."
        kinds = []
        for kind, label in KINDS.items():
            rows = [_row(c) for c in real if c.get("kind") == kind]
            if rows:
                kinds.append({"label": label, "rows": rows})
        others = [_row(c) for c in real if c.get("kind") not in KINDS]
        if others:
            kinds.append({"label": "Autres", "rows": others})
        if real:
            state = "changes"
        elif mine or (compared and against in compared and compared[against] is None):
            state = "first"  # nothing earlier to compare with
        else:
            state = "none"
        groups.append(
            {
                "key": against,
                "title": title,
                "state": state,
                "first": first,
                "count": len(real),
                "kinds": kinds,
            }
        )
    return groups


def warning_rows(warnings: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each warning with where it is, its message, the value, and the pole's own comment
    (« Source ou commentaire ») beside that indicator when the view carries it."""
    return [
        {
            "where": f"{_text(w.get('sheet'))} {_text(w.get('cell'))}".strip(),
            "code": _text(w.get("code")),
            "message": _text(w.get("message")),
            "value": _text(w.get("value")),
            "pole_comment": _text(w.get("pole_comment")),
        }
        for w in warnings
    ]


def _after(details: Any) -> str | None:
    """The state after a review decision, from an audit row's `details` (JSON text)."""
    if not isinstance(details, str):
        return details.get("after") if isinstance(details, dict) else None
    try:
        data = json.loads(details)
    except ValueError:
        return None
    return data.get("after") if isinstance(data, dict) else None


def history_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for h in history:
        action = _text(h.get("action"))
        what = ACTIONS.get(action, action)
        decision = h.get("decision") or h.get("after") or _after(h.get("details"))
        if decision:
            what = f"{what} : {vocabulary.label(decision)}"
        rows.append(
            {
                "at": h.get("done_at"),
                "by": _text(h.get("by_user")),
                "what": what,
                "reason": _text(h.get("reason")),
            }
        )
    return rows
