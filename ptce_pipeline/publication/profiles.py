"""Profiles: a pole's position across the 9 main objectives of the référentiel.

The score of a pole on an objective is the mean of its percentile ranks (0 = lowest value in
the country, 100 = highest, ties share their mean rank) over the objective's indicators.
A rank is only computed when the indicator has values from at least 3 poles (below that a
rank would disclose the other poles' values). 50 is the national median: a score is a
position, not a grade. Compared by type of territory and by sector, the profiles give the
recensement its typology.
"""

from __future__ import annotations

import html

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from .data import PeriodData
from .tables import Col, Table, heat_class

PAGE = "profils"
GENERAL_COLOURS = ("#000091", "#18753c", "#b34000")  # ≥ 3:1 against white (non-text contrast)


def scores(ref: Referentiel, data: PeriodData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """→ (score, k): pole × main objective, the mean rank and how many indicators it rests on."""
    objective = {i.code: i.objective for i in ref.indicators}
    ranks = data.ranks.assign(objective=data.ranks["indicator_code"].map(objective))
    ranks = ranks[ranks["objective"].notna()]
    grouped = ranks.groupby(["pole_id", "objective"])["rank"].agg(["mean", "count"])
    codes = [o.code for o in ref.main_objectives]
    index = pd.Index(data.poles["pole_id"], name="pole_id")
    score = grouped["mean"].unstack("objective").reindex(index=index, columns=codes)
    k = grouped["count"].unstack("objective").reindex(index=index, columns=codes).fillna(0)
    return score, k


def _objective_cols(ref: Referentiel, kind_secret: bool) -> list[Col]:
    cols = []
    for o in ref.main_objectives:
        general = ref.objective_by_code[o.parent] if o.parent else None
        cols.append(
            Col(
                f"{o.code} {o.label}",
                "score",
                label=o.label,
                secret=kind_secret,
                spanner=general.label if general else None,
            )
        )
    return cols


def poles_table(ref: Referentiel, data: PeriodData, score: pd.DataFrame, fiches) -> Table:
    frame = pd.DataFrame({"Pôle": data.poles["pole_id"], "Nom": data.poles["nom"]})
    for key in ("type_territoire", "secteur"):
        spec = ref.identity_by_key.get(key)
        if spec and spec.liste:
            names = ref.lists[spec.liste]
            frame[spec.label] = [names.label_of(c) or c for c in data.poles[key]]
    for o in ref.main_objectives:
        frame[f"{o.code} {o.label}"] = list(score[o.code])
    obj_cols = _objective_cols(ref, False)
    extra = [Col(c, html=False) for c in frame.columns[2 : len(frame.columns) - len(obj_cols)]]
    return Table(
        key="profils_poles",
        page=PAGE,
        title=f"Profil de chaque pôle sur les {len(ref.main_objectives)} objectifs, {data.period}",
        subtitle="Rang moyen de ses indicateurs dans la distribution nationale (0 à 100, "
        "50 = médiane nationale)",
        frame=frame.reset_index(drop=True),
        cols=[Col("Pôle"), Col("Nom"), *extra, *obj_cols],
        sheet="Profils des pôles",
        stub="Pôle",
        notes=[
            "Un rang n'est calculé que pour un indicateur renseigné par au moins 3 pôles.",
            "Un score est une position dans la distribution nationale, pas une note.",
        ],
        masking=False,
        link_poles=fiches,
        classes={c.key: [heat_class(v) for v in frame[c.key]] for c in obj_cols},
        fast=True,
    )


def typology_table(ref: Referentiel, data: PeriodData, score: pd.DataFrame) -> Table:
    poles = data.poles.set_index("pole_id")
    rows = []

    def add(group: str, label: str, ids: pd.Index) -> None:
        sub = score.loc[score.index.intersection(ids)]
        row = {"Critère": group, "Modalité": label, "Pôles": len(sub)}
        for o in ref.main_objectives:
            row[f"{o.code} {o.label}"] = sub[o.code].mean() if len(sub) else None
        rows.append(row)

    add("Ensemble", "Tous les pôles", poles.index)
    for key in ("type_territoire", "secteur"):
        spec = ref.identity_by_key.get(key)
        if spec is None or not spec.liste:
            continue
        for value in ref.lists[spec.liste].values:
            ids = poles.index[poles[key] == value.code]
            if len(ids):
                add(spec.label, value.label, ids)
    frame = pd.DataFrame(rows)
    frame["_group"] = frame["Critère"]
    frame["_secret"] = [F.masked(n) for n in frame["Pôles"]]
    obj_cols = _objective_cols(ref, True)
    return Table(
        key="profils_typologie",
        page=PAGE,
        title=f"Profils moyens par type de territoire et par secteur, {data.period}",
        subtitle="Moyenne des scores des pôles de chaque groupe (0 à 100, 50 = médiane nationale)",
        frame=frame,
        cols=[Col("Critère", html=False), Col("Modalité"), Col("Pôles", "int"), *obj_cols],
        sheet="Profils par typologie",
        stub="Modalité",
        notes=["Seuls les groupes d'au moins un pôle figurent ; moins de 3 pôles : secret."],
        classes={c.key: [heat_class(v) for v in frame[c.key]] for c in obj_cols},
    )


def profile_svg(ref: Referentiel, pole_scores: pd.Series, title: str, ident: str) -> str:
    """A horizontal bar chart of a pole's 9 scores, grouped by general objective, with the
    national median (50) as a reference line. Text alternative: the table that follows it."""
    e = html.escape
    label_w, bar_w, row_h, top = 250, 300, 26, 34
    generals = [g for g in ref.general_objectives if ref.indicators_of(g.code)]
    n_rows = len(ref.main_objectives) + len(generals)
    height = top + n_rows * row_h + 10
    width = label_w + bar_w + 40
    x50 = label_w + bar_w / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="profil" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{e(title)}</title>',
        f'<desc id="{ident}-d">Score de 0 à 100 sur chaque objectif principal ; '
        f"le tableau qui suit donne les mêmes valeurs.</desc>",
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        parts.append(
            f'<line x1="{x:g}" y1="{top - 6}" x2="{x:g}" y2="{height - 10}" '
            f'stroke="#dddddd" stroke-width="1"/>'
            f'<text x="{x:g}" y="{top - 10}" font-size="11" text-anchor="middle" '
            f'fill="#3a3a3a">{tick}</text>'
        )
    y = top
    for gi, general in enumerate(generals):
        colour = GENERAL_COLOURS[gi % len(GENERAL_COLOURS)]
        parts.append(
            f'<text x="0" y="{y + 17}" font-size="13" font-weight="bold" fill="{colour}">'
            f"{e(general.label)}</text>"
        )
        y += row_h
        for main in (o for o in ref.main_objectives if o.parent == general.code):
            value = pole_scores.get(main.code)
            parts.append(
                f'<text x="12" y="{y + 17}" font-size="12" fill="#161616">{e(main.label)}</text>'
            )
            if F.is_missing(value):
                parts.append(
                    f'<text x="{label_w + 4}" y="{y + 17}" font-size="12" fill="#3a3a3a" '
                    f'font-style="italic">non calculable</text>'
                )
            else:
                w = max(1.0, bar_w * float(value) / 100)
                parts.append(
                    f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" '
                    f'fill="{colour}"/>'
                    f'<text x="{label_w + w + 5:.1f}" y="{y + 17}" font-size="12" '
                    f'fill="#161616">{F.number(value, "score")}</text>'
                )
            y += row_h
    parts.append(
        f'<line x1="{x50:g}" y1="{top - 6}" x2="{x50:g}" y2="{height - 10}" stroke="#3a3a3a" '
        f'stroke-width="1.5" stroke-dasharray="4 3"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
