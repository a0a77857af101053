"""The national team's review as `ptce demo` leaves it (issue 19): the earlier campaign wholly
signed off; on the latest (the period `ptce status` shows), most declarations signed off, one
sent back to its pole with a comment, the last few still waiting. Decided through `review.decide` under the warehouse lock, by
« démo », so `ptce status`, the publication and the portal show every review state. Running the
demo again decides nothing new (the same decisions are already recorded)."""

from __future__ import annotations

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.config import Settings
from ptce_pipeline.ingestion.review import decide
from ptce_pipeline.store.lock import warehouse_lock
from ptce_pipeline.store.records import SENT_BACK, SIGNED_OFF
from ptce_pipeline.store.review import review_counts, review_rows
from ptce_pipeline.store.warehouse import reader

REVIEWER = "démo"
WAITING = 3  # declarations of the latest campaign left to review (the last poles)
SENT_BACK_INDEX = 3  # the fourth pole's declaration is sent back
COMMENT = (
    "Merci de vérifier vos effectifs (onglet Indicateurs) : le nombre d'ETP déclaré paraît élevé "
    "au regard du nombre de membres. Indiquez la source dans la colonne « Source ou "
    "commentaire », puis déposez le classeur corrigé."
)


def review_mix(settings: Settings) -> list[str]:
    """Decide the demo's review mix (earlier periods signed off, the latest mixed) → French
    lines saying what it left."""
    with reader(settings) as con:
        rows = review_rows(con) if con is not None else []
    periods = sorted({r["period"] for r in rows})
    if not periods:
        return []
    latest = sorted((r for r in rows if r["period"] == periods[-1]), key=lambda r: r["pole_id"])
    decided = latest[: max(0, len(latest) - WAITING)]
    back = decided[SENT_BACK_INDEX : SENT_BACK_INDEX + 1]
    earlier = [r["submission_id"] for r in rows if r["period"] != periods[-1]]
    signed = earlier + [r["submission_id"] for r in decided if r not in back]
    with warehouse_lock(settings.lock_path, what="ptce demo, relecture", now=settings.clock()):
        results = []
        if signed:
            results.append(decide(settings, signed, SIGNED_OFF, comment=None, by=REVIEWER))
        if back:
            results.append(
                decide(
                    settings,
                    [back[0]["submission_id"]],
                    SENT_BACK,
                    comment=COMMENT,
                    by=REVIEWER,
                )
            )
    lines = [line for r in results if r.attention for line in r.lines if "non écrit" in line]
    with reader(settings) as con:
        for period in periods:
            counts = review_counts(con, period)
            said = ", ".join(
                f"{vocabulary.label(state)} {counts[state]}"
                for state in ("validee", "a_corriger", "a_revoir")
                if counts.get(state)
            )
            lines.append(f"Relecture nationale {period} (démo) : {said}.")
    if back:
        lines.append(
            f"Renvoyée à {back[0]['pole_id']} avec un commentaire : son avis est dans "
            f"inbox/{back[0]['pole_id']}/retours/."
        )
    return lines
