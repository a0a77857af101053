"""The French wording of the ledger's notes (`store.ledger.Note`): why a decision reads as it
does on the receipt. One template per note code; dates are worded in Paris time."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ptce_pipeline.catalogue import vocabulary

if TYPE_CHECKING:
    from ptce_pipeline.store.records import Note

REINSTATED = "already-received-reinstated"  # the pole's older version is in force again

WORDINGS: dict[str, str] = {
    "unknown-sender": "dossier d'aucun pôle inscrit",
    "held-campaign-closed": (
        "la campagne {period} est close : ce classeur est enregistré et validé, mais il ne "
        "remplacera les données en vigueur qu'à la réouverture de la campagne"
    ),
    "superseded": (
        "accepté, mais une version déposée plus récemment par le pôle reste la version en vigueur"
    ),
    "validated-again": "déjà reçu auparavant ; validé de nouveau avec les règles en vigueur",
    "already-received": "déjà reçu le {received} ; rien ne change",
    "already-received-campaign-closed": (
        "déjà reçu le {received}. La campagne {period} est close : la version actuelle reste en "
        "place jusqu'à sa réouverture"
    ),
    REINSTATED: "déjà reçu le {received} ; cette version redevient la version en vigueur",
    "already-received-refused": (
        "déjà reçu le {received} et refusé : le rapport ci-dessous est inchangé"
    ),
    "already-received-withdrawn": (
        "déjà reçu le {received} ; ce classeur a été retiré par l'équipe nationale"
    ),
    "already-received-held": (
        "déjà reçu le {received} ; la campagne {period} est close, il sera pris en compte à sa "
        "réouverture"
    ),
    # a later file of the same run replaced this version before its receipt was written
    "already-received-replaced": (
        "déjà reçu le {received} ; cette version a depuis été remplacée par le fichier reçu le "
        "{by_received} (dépôt n° {by}), qui reste la version en vigueur"
    ),
    "replaced-since": (
        "accepté, puis remplacé par le fichier reçu le {by_received} (dépôt n° {by}), qui est "
        "désormais la version en vigueur"
    ),
    "reprocessed-held": (
        "validé de nouveau ; la campagne {period} est close : il ne remplacera les données en "
        "vigueur qu'à sa réouverture"
    ),
    "reprocessed-superseded": (
        "validé de nouveau ; une version déposée plus récemment reste en vigueur"
    ),
    "reprocessed": "validé de nouveau par l'équipe nationale avec les règles en vigueur",
}


def fr_datetime(moment: dt.datetime | None) -> str:
    """« 15/04/2026 à 10:00 » in Paris time; « ? » when unknown."""
    return vocabulary.short_datetime(moment)


def word(note: Note | None) -> str:
    """The note in French (lower-case start, no final full stop); "" without a note."""
    if note is None:
        return ""
    return WORDINGS[note.code].format(**{k: _param(v) for k, v in note.params.items()})


def _param(value: Any) -> str:
    if value is None or isinstance(value, dt.datetime):
        return fr_datetime(value)
    return str(value)
