"""Which declarations in force a release's figures rest on (issue 19, the national review), and
what its pages say about it.

- Campaign open: the internal release shows every declaration in force, each pole flagged with
  its review state; the public release rests on signed-off declarations only (`validee`).
- Campaign closed: both releases give the final figures, on signed-off declarations only; or,
  when the campaign was closed with `--keep-unreviewed`, also on those still waiting for review
  (`a_revoir`). A declaration sent back to its pole (`a_corriger`) never counts once closed.

The public release's statistical secret is computed on its own population (`audience.masks`
on the public `PeriodData`), so a pole left out of it leaves no trace in it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ptce_pipeline.catalogue import vocabulary

from . import fmt as F
from .tables import Col

TO_REVIEW, SIGNED_OFF, SENT_BACK = "a_revoir", "validee", "a_corriger"  # store.records
IN_FORCE = (TO_REVIEW, SIGNED_OFF, SENT_BACK)
SIGNED = (SIGNED_OFF,)
SIGNED_OR_WAITING = (SIGNED_OFF, TO_REVIEW)
KEPT_LABEL = {  # « les pôles dont la déclaration … est … »
    IN_FORCE: "acceptée",
    SIGNED: "acceptée et validée",
    SIGNED_OR_WAITING: "acceptée, validée ou encore à relire",
}
FLAG = "Relecture"  # the column of the internal per-pole tables


def kept_states(campaign: dict[str, Any] | None, *, public: bool) -> tuple[str, ...]:
    """The review states of the declarations a release of that campaign's period rests on."""
    if campaign and bool(campaign.get("closed")):
        return SIGNED_OR_WAITING if bool(campaign.get("keep_unreviewed")) else SIGNED
    return SIGNED if public else IN_FORCE


def _n(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _listed(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"n° {int(r['submission_id'])} ({r['pole_id']})" for r in rows)


def counts(review) -> dict[str, int]:
    """How many declarations in force are in each review state."""
    states = list(review["review_state"]) if len(review) else []
    return {s: sum(1 for x in states if (x or TO_REVIEW) == s) for s in IN_FORCE}


def notes(data, *, public: bool) -> list[str]:
    """What the figures rest on, in the release's notes (French)."""
    review = data.review
    total = len(review)
    if not total:
        return []
    n = counts(review)
    signed, waiting = n[SIGNED_OFF], n[TO_REVIEW]
    declarations = _n(total, "déclaration", "déclarations")
    left_out = [
        r for r in review.to_dict("records") if (r["review_state"] or TO_REVIEW) not in data.kept
    ]
    if (data.campaign() or {}).get("closed"):
        if data.kept == SIGNED_OR_WAITING and waiting:
            text = (
                "Chiffres définitifs établis sur "
                f"{_n(signed + waiting, 'déclaration', 'déclarations')} : "
                f"{_n(signed, 'validée', 'validées')} par l'équipe nationale et "
                f"{_n(waiting, 'restée à relire', 'restées à relire')} (campagne close en "
                "gardant les déclarations non relues)"
            )
        else:
            text = (
                "Chiffres définitifs établis sur les seules déclarations validées par l'équipe "
                f"nationale : {signed} sur {declarations} en vigueur"
            )
        if left_out:
            what = _n(
                len(left_out),
                "déclaration non validée en est exclue",
                "déclarations non validées en sont exclues",
            )
            text += f" ; {what}" + ("" if public else f" : {_listed(left_out)}")
        return [text + "."]
    if signed == total:
        return [
            f"Relecture nationale : {'la' if total == 1 else 'les'} {declarations} en vigueur "
            f"{'est validée' if total == 1 else 'sont validées'} par l'équipe nationale."
        ]
    if public:
        return [
            "Relecture nationale : les chiffres publics ne portent que sur les déclarations "
            f"validées par l'équipe nationale, {signed} sur {declarations} en vigueur ; les "
            "autres s'y ajouteront une fois validées."
        ]
    return [f"Relecture nationale : {banner(data)}."]


def banner(data) -> str:
    """The internal release's banner while declarations wait for review (« » when none)."""
    total = len(data.review)
    waiting = total - counts(data.review)[SIGNED_OFF]
    if not waiting:
        return ""
    if waiting == 1:
        return f"1 déclaration sur {total} n'est pas encore validée : chiffres provisoires"
    return f"{waiting} déclarations sur {total} ne sont pas encore validées : chiffres provisoires"


def state_of(data, pole_id: str) -> str | None:
    """The review state of a pole's declaration in force (None without one)."""
    rows = data.review[data.review["pole_id"] == pole_id]
    return (rows.iloc[0]["review_state"] or TO_REVIEW) if len(rows) else None


def flags(data, pole_ids) -> list[str]:
    """The « Relecture » cell of each pole: its review state, capitalised."""
    states = dict(zip(data.review["pole_id"], data.review["review_state"], strict=True))
    return [
        vocabulary.capitalised(states.get(p) or TO_REVIEW) if p in states else "—" for p in pole_ids
    ]


def flagged(table, data):
    """A per-pole table of the internal release with a last column, « Relecture »: each pole's
    review state, highlighted when its declaration is not signed off."""
    if "Pôle" not in table.frame or FLAG in table.frame:
        return table
    frame = table.frame.copy()
    cells = flags(data, list(frame["Pôle"]))
    frame[FLAG] = cells
    signed = vocabulary.capitalised(SIGNED_OFF)
    classes = {**table.classes, FLAG: ["" if c == signed else "alerte" for c in cells]}
    cols = [*table.cols, Col(FLAG)]
    return dataclasses.replace(table, frame=frame, cols=cols, classes=classes)


def fiche_line(data, pole_id: str) -> str:
    """What a pole's fiche says of the national review of its declaration (French)."""
    rows = data.review[data.review["pole_id"] == pole_id]
    if not len(rows):
        return ""
    row = rows.iloc[0]
    sid, state, at = int(row["submission_id"]), row["review_state"] or TO_REVIEW, row["reviewed_at"]
    day = "" if F.is_missing(at) else f" le {F.date_fr(pd.Timestamp(at).to_pydatetime())}"
    if state == SIGNED_OFF:
        return f"Déclaration n° {sid} validée par l'équipe nationale{day}."
    if state == SENT_BACK:
        return (
            f"Déclaration n° {sid} renvoyée au pôle pour correction{day} (avis de relecture dans "
            "son dossier retours/) : ses chiffres restent provisoires jusqu'à un nouveau dépôt."
        )
    if (data.campaign() or {}).get("closed"):
        return (
            f"Déclaration n° {sid} non relue par l'équipe nationale, gardée dans les chiffres "
            "définitifs de la campagne close."
        )
    return (
        f"Déclaration n° {sid} pas encore validée par l'équipe nationale (relecture en cours) : "
        "ses chiffres sont provisoires."
    )
