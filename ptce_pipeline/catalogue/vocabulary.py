"""The pipeline's vocabulary (docs/conventions.md, « Vocabulary ») and its French labels: one
table for everything people read — the terminal, the site. The warehouse, the journal and
`--json` keep the codes; a code is never shown where a label belongs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ptce_pipeline.config import PARIS as CONFIG_PARIS

STATUS: dict[str, str] = {  # in the order tables list them
    "acceptee": "acceptée",
    "acceptee_avec_avertissements": "acceptée avec avertissements",
    "refusee": "refusée",
    "manquante": "manquante",  # completeness: no submission for the period
    "retenue": "retenue (campagne close)",
    "en_attente": "en attente",
    "en_erreur": "en erreur",
    "retiree": "retirée",
    "remplacee": "remplacée",
}
OUTCOME: dict[str, str] = {
    "nouvelle": "nouveau dépôt",
    "doublon": "doublon",
    "expediteur_inconnu": "expéditeur inconnu",
    "ecartee": "écarté",
}
SEVERITY: dict[str, str] = {"erreur": "erreur", "avertissement": "avertissement"}
REVIEW: dict[str, str] = {  # the national team's review of an accepted declaration
    "a_revoir": "à relire",
    "validee": "validée",
    "a_corriger": "à corriger",
}
LABELS: dict[str, str] = {**STATUS, **OUTCOME, **SEVERITY, **REVIEW}


MONTHS = (  # « 3 mars 2026 »: dates in running French text (the site, the e-mails)
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


PARIS = ZoneInfo(CONFIG_PARIS)


def _day(value):
    """A moment → its day in Paris; a date as it is."""
    return value.astimezone(PARIS).date() if isinstance(value, dt.datetime) else value


def short_date(value, *, missing: str = "—") -> str:
    """« 15/04/2026 » (a moment: the day it was in Paris)."""
    return missing if value is None else _day(value).strftime("%d/%m/%Y")


def short_datetime(moment, *, sep: str = " à ", missing: str = "?") -> str:
    """« 15/04/2026 à 10:00 » in Paris time (`sep` between the day and the hour)."""
    return missing if moment is None else moment.astimezone(PARIS).strftime(f"%d/%m/%Y{sep}%H:%M")


def long_date(day) -> str:
    """« 3 mars 2026 »."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def label(code: str | None) -> str:
    """The French label of a vocabulary code (« — » for none; an unknown code as it is)."""
    if code is None:
        return "—"
    return LABELS.get(code, code)


def capitalised(code: str | None) -> str:
    """The label with a capital first letter (a table cell, a heading)."""
    text = label(code)
    return text[:1].upper() + text[1:]
