"""Labellisation: per pole, the criteria met (x/8 incontournables, y/6 à tester), with "En
partie" counted apart (it does not count as met); per criterion, how the poles answered."""

from __future__ import annotations

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from .data import PeriodData
from .tables import Col, Table

PAGE = "labellisation"
YES, PARTLY, NO = "oui", "en_partie", "non"


def _type_label(ref: Referentiel, ctype: str) -> str:
    return ref.criterion_types.get(ctype, (ctype, ctype))[1]


def poles(ref: Referentiel, data: PeriodData, fiches: frozenset[str]) -> Table:
    crit = data.criteria.copy()
    types = {c.code: c.type for c in ref.criteria}
    crit["type"] = crit["criterion_code"].map(types)
    crit = crit[crit["type"].notna()]
    counts = (
        crit.groupby(["pole_id", "type", "answer"]).size().unstack(["type", "answer"], fill_value=0)
        if len(crit)
        else pd.DataFrame()
    )
    base = data.poles[["pole_id", "nom"]].reset_index(drop=True)
    frame = pd.DataFrame({"Pôle": base["pole_id"], "Nom": base["nom"]})
    cols = [Col("Pôle"), Col("Nom")]
    for ctype in ref.criterion_types:
        total = len(ref.criteria_of(ctype))
        if not total:
            continue
        label = _type_label(ref, ctype)

        def count(answer: str, ctype: str = ctype) -> list[int]:
            key = (ctype, answer)
            if key not in counts:
                return [0] * len(base)
            return [int(counts[key].get(p, 0)) for p in base["pole_id"]]

        met, partly, no = count(YES), count(PARTLY), count(NO)
        frame[f"{label} : remplis"] = met
        frame[f"{label} : sur"] = total
        frame[f"{label} : remplis (x/{total})"] = [f"{m}/{total}" for m in met]
        frame[f"{label} : en partie"] = partly
        frame[f"{label} : non"] = no
        frame[f"{label} : sans réponse"] = [
            total - m - p - n for m, p, n in zip(met, partly, no, strict=True)
        ]
        cols += [
            Col(f"{label} : remplis", "int", html=False),
            Col(f"{label} : sur", "int", html=False),
            Col(
                f"{label} : remplis (x/{total})",
                "fraction",
                label="Remplis",
                spanner=label,
                export=False,
            ),
            Col(f"{label} : en partie", "int", label="En partie", spanner=label),
            Col(f"{label} : non", "int", label="Non", spanner=label),
            Col(f"{label} : sans réponse", "int", label="Sans réponse", spanner=label, html=False),
        ]
    if "incontournable" in ref.criterion_types:
        label = _type_label(ref, "incontournable")
        total = len(ref.criteria_of("incontournable"))
        frame["Tous les incontournables remplis"] = [
            "oui" if m == total else "non" for m in frame[f"{label} : remplis"]
        ]
        cols.append(Col("Tous les incontournables remplis", label="Tous remplis"))
    return Table(
        key="labellisation_poles",
        page=PAGE,
        title=f"Critères de labellisation remplis par pôle, {data.period}",
        subtitle="« Oui » seulement ; « En partie » est compté à part et ne vaut pas critère rempli",
        frame=frame,
        cols=cols,
        sheet="Labellisation par pôle",
        stub="Pôle",
        notes=["Réponses de la feuille Critères de la déclaration acceptée de chaque pôle."],
        masking=False,
        link_poles=fiches,
        fast=True,
    )


def criteres(ref: Referentiel, data: PeriodData) -> Table:
    crit = data.criteria
    counts = (
        crit.groupby(["criterion_code", "answer"]).size().unstack("answer", fill_value=0)
        if len(crit)
        else pd.DataFrame()
    )
    answered = crit[crit["answer"].notna()].groupby("criterion_code").size()
    rows = []
    for c in ref.criteria:

        def get(answer: str, code: str = c.code) -> int:
            if answer not in counts or code not in counts.index:
                return 0
            return int(counts.at[code, answer])

        n = int(answered.get(c.code, 0))
        rows.append(
            {
                "Type": _type_label(ref, c.type),
                "Code": c.code,
                "Critère": c.label,
                "Pôles répondants": n,
                "Oui": get(YES),
                "En partie": get(PARTLY),
                "Non": get(NO),
                "Part de « Oui » (%)": 100.0 * get(YES) / n if n else None,
                "_group": _type_label(ref, c.type),
                "_secret": F.masked(n),
            }
        )
    frame = pd.DataFrame(rows)
    return Table(
        key="labellisation_criteres",
        page=PAGE,
        title=f"Réponses des pôles à chaque critère de labellisation, {data.period}",
        subtitle="Nombre de pôles ayant répondu Oui, En partie ou Non",
        frame=frame,
        cols=[
            Col("Type", html=False),
            Col("Critère"),
            Col("Code"),
            Col("Pôles répondants", "int", label="Pôles"),
            Col("Oui", "int", secret=True),
            Col("En partie", "int", secret=True),
            Col("Non", "int", secret=True),
            Col("Part de « Oui » (%)", "share", label="Part de « Oui »", secret=True),
        ],
        sheet="Labellisation par critère",
        stub="Critère",
    )
