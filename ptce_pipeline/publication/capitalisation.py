"""Capitalisation: the 27 indicators of the référentiel, nationally, grouped by objective.

Per indicator: poles reporting (n), total where the catalogue says a total makes sense,
quartiles, the distribution as a nanoplot (one bar per pole, sorted), and the evolution of the
median against the previous period (in points for percentages and scales).
"""

from __future__ import annotations

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from .data import PeriodData
from .tables import PLOT_POINTS, Col, Table

PAGE = "capitalisation"
POINT_KINDS = ("percent", "scale")  # an evolution in points, not in %


def objective_group(ref: Referentiel, objective: str) -> str:
    main = ref.objective_by_code[objective]
    general = ref.objective_by_code[main.parent] if main.parent else None
    head = f"{general.code} {general.label} › " if general else ""
    return f"{head}{main.code} {main.label}"


def _evolution(kind: str, now: float | None, before: float | None) -> float | None:
    if F.is_missing(now) or F.is_missing(before):
        return None
    if kind in POINT_KINDS:
        return float(now) - float(before)
    if float(before) == 0:
        return None
    return (float(now) - float(before)) / abs(float(before)) * 100


def capitalisation(ref: Referentiel, data: PeriodData) -> Table:
    cur = data.stats[data.stats["period"] == data.period].set_index("indicator_code")
    prev = data.stats[data.stats["period"] == data.period - 1].set_index("indicator_code")
    rows = []
    for ind in ref.indicators:
        s = cur.loc[ind.code] if ind.code in cur.index else None
        p = prev.loc[ind.code] if ind.code in prev.index else None
        n = int(s["n"]) if s is not None else 0
        n_prev = int(p["n"]) if p is not None else 0
        secret, secret_prev = F.masked(n), F.masked(n_prev)
        median = s["median"] if s is not None else None
        median_prev = p["median"] if p is not None else None
        evolution = None if secret or secret_prev else _evolution(ind.kind, median, median_prev)
        rows.append(
            {
                "Objectif général": f"{ind.general} {ref.objective_by_code[ind.general].label}",
                "Objectif principal": f"{ind.objective} {ref.objective_by_code[ind.objective].label}",
                "Code": ind.code,
                "Indicateur": ind.label,
                "Unité": ind.unit,
                "Pôles répondants": n,
                "Total": s["total"] if s is not None and ind.total else None,
                "1er quartile": s["q1"] if s is not None else None,
                "Médiane": median,
                "3e quartile": s["q3"] if s is not None else None,
                "Distribution": list(s["vals"]) if s is not None else [],
                f"Pôles répondants {data.period - 1}": n_prev,
                f"Médiane {data.period - 1}": median_prev,
                "Évolution de la médiane": evolution,
                "Unité de l'évolution": "points" if ind.kind in POINT_KINDS else "%",
                "_group": objective_group(ref, ind.objective),
                "_kind": ind.kind,
                "_evol_kind": "points" if ind.kind in POINT_KINDS else "percent",
                "_secret": secret,
                "_secret_prev": secret_prev,
                "_secret_evol": secret or secret_prev,
            }
        )
    frame = pd.DataFrame(rows)
    has_prev = bool(len(prev))
    now_span = f"Distribution {data.period}"
    evol_span = f"Évolution depuis {data.period - 1}"
    p1 = data.period - 1
    total_note = "Total : seulement pour les indicateurs que le référentiel déclare additionnables."
    return Table(
        key="capitalisation",
        page=PAGE,
        title=f"Les {len(ref.indicators)} indicateurs du référentiel, {data.period}",
        subtitle="Pôles répondants, total, quartiles et répartition ; évolution de la médiane",
        frame=frame,
        cols=[
            Col("Objectif général", html=False),
            Col("Objectif principal", html=False),
            Col("Indicateur"),
            Col("Code"),
            Col("Unité"),
            Col("Pôles répondants", "int", label="Pôles"),
            Col("Total", "row", secret=True),
            Col("1er quartile", "row", secret=True, spanner=now_span),
            Col("Médiane", "row", secret=True, spanner=now_span),
            Col("3e quartile", "row", secret=True, spanner=now_span),
            Col(
                "Distribution",
                "plot",
                label="Répartition",
                secret=True,
                spanner=now_span,
                export=False,
            ),
            Col(f"Pôles répondants {p1}", "int", label="Pôles", spanner=evol_span, html=has_prev),
            Col(
                f"Médiane {p1}",
                "row",
                label="Médiane",
                secret=True,
                secret_by="_secret_prev",
                spanner=evol_span,
                html=has_prev,
            ),
            Col(
                "Évolution de la médiane",
                "evol",
                label="Évolution",
                secret=True,
                secret_by="_secret_evol",
                spanner=evol_span,
                html=has_prev,
            ),
            Col("Unité de l'évolution", html=False),
        ],
        sheet="Capitalisation",
        stub="Indicateur",
        notes=[
            "Pôles : pôles dont la déclaration acceptée renseigne l'indicateur.",
            total_note,
            f"Répartition : un trait par pôle, valeurs triées (au-delà de {PLOT_POINTS} pôles, "
            f"{PLOT_POINTS} quantiles régulièrement espacés) ; ligne orange : médiane.",
            "Évolution : en % de la médiane précédente, en points pour les pourcentages et les "
            "échelles ; les pôles répondants peuvent différer d'une période à l'autre.",
        ],
    )
