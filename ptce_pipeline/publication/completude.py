"""Complétude et qualité: each expected pole's status for the period, its late flag, its
warnings and errors, and the problems most often met."""

from __future__ import annotations

import pandas as pd

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.catalogue.issues import CATALOGUE

from . import fmt as F
from . import scope
from .data import PeriodData
from .tables import Col, Table

PAGE = "completude"
# the vocabulary's labels (`catalogue.vocabulary`), capitalised for table cells; the site
# says what to do about the state the national team acts on
STATUS_FR = {
    **{code: vocabulary.capitalised(code) for code in vocabulary.STATUS},
    "en_erreur": "En erreur (à retraiter)",
}
ACCEPTED = ("acceptee", "acceptee_avec_avertissements")
SEVERITY_FR = {"erreur": "Erreur", "avertissement": "Avertissement"}


def poles(data: PeriodData, fiches: frozenset[str]) -> Table:
    e = data.expected
    received = [None if pd.isna(t) else F.paris(t.to_pydatetime()).date() for t in e["received_at"]]
    frame = pd.DataFrame(
        {
            "Pôle": e["pole_id"],
            "Nom": e["pole_name"],
            "Statut": [STATUS_FR.get(s, s) for s in e["status"]],
            "Code du statut": e["status"],
            "Dépôt n°": pd.array(e["submission_id"], dtype="Int64"),
            "Reçu le": received,
            "En retard": ["oui" if bool(x) else "non" for x in e["late"].fillna(False)],
            "Avertissements": [int(x) for x in e["n_warnings"]],
            "Erreurs": [int(x) for x in e["n_errors"]],
            scope.FLAG: [_review(r) for r in e["review_state"]],
            "Code de relecture": [None if F.is_missing(r) else r for r in e["review_state"]],
        }
    )

    return Table(
        key="completude_poles",
        page=PAGE,
        title=f"Complétude de la campagne {data.period}, pôle par pôle",
        subtitle="Statut de la déclaration en vigueur (ou de la dernière reçue), retard, "
        "avertissements et erreurs",
        frame=frame,
        cols=[
            Col("Pôle"),
            Col("Nom"),
            Col("Statut"),
            Col("Code du statut", html=False),
            Col("Dépôt n°", "id"),
            Col("Reçu le", "date"),
            Col("En retard"),
            Col("Avertissements", "int"),
            Col("Erreurs", "int"),
            Col(scope.FLAG),
            Col("Code de relecture", html=False),
        ],
        sheet="Complétude par pôle",
        stub="Pôle",
        notes=[
            "Une déclaration manquante est en retard quand la date limite de la campagne est passée.",
            "Les pôles dont la déclaration est refusée reçoivent un rapport détaillé dans leur dossier.",
            f"{scope.FLAG} : relecture de la déclaration en vigueur par l'équipe nationale "
            "(à relire, validée, ou à corriger : renvoyée au pôle avec un commentaire).",
        ],
        masking=False,
        link_poles=fiches,
        classes={
            "Statut": ["" if s in ACCEPTED else "alerte" for s in e["status"]],
            "En retard": ["alerte" if x == "oui" else "" for x in frame["En retard"]],
            scope.FLAG: [
                "alerte" if r in (scope.TO_REVIEW, scope.SENT_BACK) else ""
                for r in e["review_state"]
            ],
        },
        fast=True,
    )


def _review(state) -> str:
    return "" if F.is_missing(state) else vocabulary.capitalised(state)


def synthese(data: PeriodData) -> Table:
    e = data.expected
    total = len(e)
    order = [s for s in STATUS_FR if s in set(e["status"])]
    rows = []
    for status in order:
        sub = e[e["status"] == status]
        rows.append((STATUS_FR[status], len(sub), int(sub["late"].fillna(False).sum()), False))
    rows.append(("Ensemble des pôles attendus", total, int(e["late"].fillna(False).sum()), True))
    frame = pd.DataFrame(
        {
            "Statut": [r[0] for r in rows],
            "Pôles": [r[1] for r in rows],
            "Part des pôles attendus (%)": [100.0 * r[1] / total if total else None for r in rows],
            "Dont en retard": [r[2] for r in rows],
            "_total": [r[3] for r in rows],
        }
    )
    campaign = data.campaign()
    if campaign and campaign.get("closed"):
        state = f"Campagne close le {F.date_fr(campaign['closed_at'])}."
    else:
        deadline = campaign["deadline"] if campaign else None
        state = "Campagne ouverte" + (
            f" (date limite : {F.date_fr(deadline)})." if deadline else "."
        )
    n = scope.counts(data.review)
    if len(data.review):
        state += (
            f" Relecture nationale des {len(data.review)} déclarations en vigueur : "
            f"{n[scope.SIGNED_OFF]} validée(s), {n[scope.TO_REVIEW]} à relire, "
            f"{n[scope.SENT_BACK]} à corriger."
        )
    return Table(
        key="completude_synthese",
        page=PAGE,
        title=f"Complétude de la campagne {data.period}",
        subtitle=state,
        frame=frame,
        cols=[
            Col("Statut"),
            Col("Pôles", "int"),
            Col("Part des pôles attendus (%)", "share", label="Part des pôles attendus"),
            Col("Dont en retard", "int"),
        ],
        sheet="Complétude",
        stub="Statut",
        masking=False,
    )


def qualite(data: PeriodData) -> Table:
    i = data.issues
    frame = pd.DataFrame(
        {
            "Code": i["code"],
            "Problème": [CATALOGUE[c].title if c in CATALOGUE else c for c in i["code"]],
            "Gravité": [SEVERITY_FR.get(s, s) for s in i["severity"]],
            "Pôles concernés": [int(x) for x in i["n_poles"]],
            "Occurrences": [int(x) for x in i["n_occurrences"]],
        }
    )
    return Table(
        key="qualite_problemes",
        page=PAGE,
        title=f"Problèmes relevés dans les déclarations {data.period}",
        subtitle="Dans la déclaration en vigueur (ou la dernière reçue) de chaque pôle attendu",
        frame=frame,
        cols=[
            Col("Problème"),
            Col("Code", "code"),
            Col("Gravité"),
            Col("Pôles concernés", "int"),
            Col("Occurrences", "int"),
        ],
        sheet="Qualité",
        stub="Problème",
        notes=["Les codes sont ceux des rapports envoyés aux pôles (voir la documentation)."],
        masking=False,
        empty="Aucun problème relevé dans les déclarations de la période.",
    )
