"""Fiches pôles: one page per pole with an accepted declaration — identity, profile across the
9 main objectives, indicators beside the national quartiles, labellisation, members.

What a fiche masks: the pole's own values are published as declared (that is the fiche's
purpose); every national reference (quartiles, median, rank, and the profile scores built
from ranks) for an indicator reported by fewer than 3 poles is masked. Members constituted
as an entreprise individuelle are listed without their name (it is usually a person's name).

Pages are written with plain string building (no great-tables per page): a fiche costs about
a millisecond, so thousands of poles stay cheap. The data behind the fiches is exported as
long tables (`fiches_*`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from . import html as H
from . import scope
from .capitalisation import objective_group
from .data import PeriodData
from .labellisation import PARTLY, YES
from .members import HIDDEN_NAME, person_forms
from .profiles import profile_svg
from .tables import Col, Table

POLE_ID = re.compile(r"PTCE-\d{3,}")


def fiche_ids(data: PeriodData) -> list[str]:
    """Poles that get a fiche: an accepted declaration and an id safe as a file name."""
    return [p for p in data.poles["pole_id"] if POLE_ID.fullmatch(str(p))]


def indicators_table(ref: Referentiel, data: PeriodData) -> Table:
    catalogue = pd.DataFrame(
        [(i.code, i.label, i.unit, i.kind, objective_group(ref, i.objective), pos)
         for pos, i in enumerate(ref.indicators)],
        columns=["Code", "Indicateur", "Unité", "_kind", "_group", "_pos"],
    )  # fmt: skip
    stats = data.stats[data.stats["period"] == data.period]
    stats = stats.rename(columns={"indicator_code": "Code"})[["Code", "n", "q1", "median", "q3"]]
    ranks = data.ranks.rename(columns={"pole_id": "Pôle", "indicator_code": "Code"})
    frame = (
        data.poles[["pole_id", "nom"]]
        .rename(columns={"pole_id": "Pôle", "nom": "Nom du pôle"})
        .merge(catalogue, how="cross")
        .merge(ranks[["Pôle", "Code", "value", "rank"]], on=["Pôle", "Code"], how="left")
        .merge(stats, on="Code", how="left")
        .sort_values(["Pôle", "_pos"], kind="stable")
        .reset_index(drop=True)
    )
    frame["n"] = frame["n"].fillna(0).astype(int)
    frame["_secret"] = frame["n"].map(F.masked)
    frame = frame.rename(
        columns={
            "value": "Valeur du pôle",
            "n": "Pôles répondants",
            "q1": "1er quartile national",
            "median": "Médiane nationale",
            "q3": "3e quartile national",
            "rank": "Rang national (0 à 100)",
        }
    )[
        ["Pôle", "Nom du pôle", "Code", "Indicateur", "Unité", "Valeur du pôle",
         "Pôles répondants", "1er quartile national", "Médiane nationale",
         "3e quartile national", "Rang national (0 à 100)", "_kind", "_group", "_secret"]
    ]  # fmt: skip
    return Table(
        key="fiches_indicateurs",
        page="fiches",
        title=f"Fiches pôles : indicateurs et repères nationaux, {data.period}",
        subtitle="Valeur déclarée par le pôle, quartiles nationaux et rang du pôle",
        frame=frame,
        cols=[
            Col("Pôle"),
            Col("Nom du pôle"),
            Col("Code"),
            Col("Indicateur"),
            Col("Unité"),
            Col("Valeur du pôle", "row"),
            Col("Pôles répondants", "int"),
            Col("1er quartile national", "row", secret=True),
            Col("Médiane nationale", "row", secret=True),
            Col("3e quartile national", "row", secret=True),
            Col("Rang national (0 à 100)", "score", secret=True),
        ],
        sheet="Fiches - indicateurs",
        in_html=False,
        in_xlsx=False,  # one row per pole and indicator: a data file, not a sheet
    )


def members_table(ref: Referentiel, data: PeriodData) -> Table:
    m = data.members
    cats, forms = ref.lists["categories_membres"], ref.lists["formes_juridiques"]
    names = dict(zip(data.poles["pole_id"], data.poles["nom"], strict=True))
    hidden = m["forme_juridique"].isin(person_forms(ref))
    frame = pd.DataFrame(
        {
            "Pôle": m["pole_id"],
            "Nom du pôle": m["pole_id"].map(names),
            "N°": m["member_no"],
            "Organisation membre": m["nom"].where(~hidden, HIDDEN_NAME),
            "Catégorie": [cats.label_of(c) or c for c in m["categorie"]],
            "Forme juridique": [forms.label_of(c) or c for c in m["forme_juridique"]],
            "Année d'adhésion": pd.array(m["annee_adhesion"], dtype="Int64"),
        }
    )
    return Table(
        key="fiches_membres",
        page="fiches",
        title=f"Fiches pôles : organisations membres, {data.period}",
        subtitle="Telles que déclarées dans la feuille Membres (sans SIRET ni effectifs)",
        frame=frame,
        cols=[
            Col("Pôle"),
            Col("Nom du pôle"),
            Col("N°", "int"),
            Col("Organisation membre"),
            Col("Catégorie"),
            Col("Forme juridique"),
            Col("Année d'adhésion", "id"),
        ],
        sheet="Membres des pôles",
        masking=False,
        in_html=False,
    )


def criteria_table(ref: Referentiel, data: PeriodData) -> Table:
    c = data.criteria
    answers = ref.lists["reponses_criteres"]
    crit = ref.criterion_by_code
    names = dict(zip(data.poles["pole_id"], data.poles["nom"], strict=True))
    frame = pd.DataFrame(
        {
            "Pôle": c["pole_id"],
            "Nom du pôle": c["pole_id"].map(names),
            "Type": [
                ref.criterion_types.get(crit[x].type, ("", ""))[1] if x in crit else ""
                for x in c["criterion_code"]
            ],
            "Code": c["criterion_code"],
            "Critère": [crit[x].label if x in crit else x for x in c["criterion_code"]],
            "Réponse": [answers.label_of(a) or a for a in c["answer"]],
            "Justification": c["justification"],
        }
    )
    return Table(
        key="fiches_criteres",
        page="fiches",
        title=f"Fiches pôles : réponses aux critères de labellisation, {data.period}",
        subtitle="Réponse et justification déclarées par chaque pôle",
        frame=frame,
        cols=[Col(k) for k in frame.columns],
        sheet="Fiches - critères",
        masking=False,
        in_html=False,
        in_xlsx=False,  # one row per pole and criterion: a data file, not a sheet
    )


def _by_pole(frame: pd.DataFrame) -> dict[str, list[tuple]]:
    """Rows of a long frame, per pole (one pass, no per-pole filtering)."""
    rows = frame.itertuples(index=False, name=None)
    return {pole: list(group) for pole, group in itertools.groupby(rows, key=lambda r: r[0])}


def _identity(ref: Referentiel, pole: pd.Series) -> list[tuple[str, str]]:
    geo = ref.geography
    out = []
    for key in ("region", "departement", "commune", "type_territoire", "echelle", "origine",
                "secteur", "annee_creation", "structure_nom", "structure_forme"):  # fmt: skip
        spec = ref.identity_by_key.get(key)
        value = pole.get(key)
        if spec is None or F.is_missing(value):
            continue
        if key == "region":
            value = geo.regions.get(value, value)
        elif key == "departement" and value in geo.departements:
            value = f"{value} — {geo.departements[value][0]}"
        elif spec.liste:
            value = ref.lists[spec.liste].label_of(value) or value
        out.append((spec.label, str(value)))
    return out


def pages(
    ref: Referentiel, data: PeriodData, ind: Table, members: Table, crit: Table, score, k
) -> Iterator[tuple[str, str]]:
    """→ (pole_id, page HTML) for every pole with a fiche."""
    ids = fiche_ids(data)
    by_ind = _by_pole(ind.frame)
    by_member = _by_pole(members.frame)
    by_crit = _by_pole(crit.frame)
    poles = data.poles.set_index("pole_id")
    types = ref.criterion_types
    for pos, pole_id in enumerate(ids):
        pole = poles.loc[pole_id]
        name = str(pole["nom"])
        e = H.e
        nav = []
        if pos > 0:
            nav.append(f'<a href="{ids[pos - 1]}.html">← {ids[pos - 1]}</a>')
        nav.append('<a href="../index.html#fiches">Tous les pôles</a>')
        if pos + 1 < len(ids):
            nav.append(f'<a href="{ids[pos + 1]}.html">{ids[pos + 1]} →</a>')
        rows = by_ind.get(pole_id, [])
        value_of = {r[2]: r[5] for r in rows}
        crit_rows = by_crit.get(pole_id, [])
        figures = [(F.number(pole["n_members"], "int"), "Organisations membres", "déclarées")]
        for code in ("IND22", "IND25"):
            i = ref.indicator_by_code.get(code)
            if i is not None:
                unit = "" if i.kind in ("euros", "percent") else f" ({i.unit})"
                figures.append((F.number(value_of.get(code), i.kind), i.label + unit, "déclaré"))
        for ctype, (_label, plural) in types.items():
            total = len(ref.criteria_of(ctype))
            codes = {c.code for c in ref.criteria_of(ctype)}
            met = sum(1 for r in crit_rows if r[3] in codes and r[5] == _answer_label(ref, YES))
            partly = sum(
                1 for r in crit_rows if r[3] in codes and r[5] == _answer_label(ref, PARTLY)
            )
            figures.append((f"{met}/{total}", f"{plural} remplis", f"dont {partly} en partie à part"))  # fmt: skip
        body = [
            f'<p class="fil">{" · ".join(nav)}</p>',
            f"<h1>{e(name)}</h1>",
            f'<p class="chapo">Fiche du pôle {e(pole_id)}, période {data.period}</p>',
            _review_line(data, pole_id),
            H.key_figures(figures),
            '<h2 id="identite">Identité</h2><dl class="identite">'
            + "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in _identity(ref, pole))
            + "</dl>",
            _profile_section(ref, data, pole_id, name, score, k),
            _indicators_section(rows),
            _criteria_section(ref, crit_rows),
            _members_section(by_member.get(pole_id, [])),
        ]
        yield pole_id, "\n".join(body)


def _review_line(data: PeriodData, pole_id: str) -> str:
    """The national review of the pole's declaration: said to the pole, flagged internally."""
    state = scope.state_of(data, pole_id)
    css = "bandeau-info" if state == scope.SIGNED_OFF else "bandeau-info provisoire"
    return f'<p class="{css} relecture">{H.e(scope.fiche_line(data, pole_id))}</p>'


def _answer_label(ref: Referentiel, code: str) -> str:
    return ref.lists["reponses_criteres"].label_of(code) or code


def _profile_section(ref, data, pole_id, name, score, k) -> str:
    s = score.loc[pole_id] if pole_id in score.index else pd.Series(dtype=float)
    svg = profile_svg(ref, s, f"Profil de {name} sur les objectifs principaux", f"profil-{pole_id}")
    groups = []
    for general in ref.general_objectives:
        rows = []
        for main in (o for o in ref.main_objectives if o.parent == general.code):
            n_ind = len([i for i in ref.indicators if i.objective == main.code])
            counted = int(k.at[pole_id, main.code]) if pole_id in k.index else 0
            rows.append(
                [H.Cell(main.label), H.Cell(F.number(s.get(main.code), "score"), num=True),
                 H.Cell(f"{counted}/{n_ind}", num=True)]
            )  # fmt: skip
        groups.append((general.label, rows))
    table = H.simple_table(
        "Score du pôle sur chaque objectif principal (0 à 100, 50 = médiane nationale)",
        [("Objectif principal", False), ("Score", True), ("Indicateurs classés", True)],
        groups,
        tid="profil-table",
    )
    return (
        '<h2 id="profil">Profil</h2><p>Rang moyen des indicateurs du pôle dans la distribution '
        "nationale, pour chacun des objectifs principaux (0 = plus faible valeur nationale, "
        "100 = plus forte ; 50 = médiane, trait pointillé).</p>"
        f'<div class="deux"><div>{svg}</div><div>{table}</div></div>'
    )


def _indicators_section(rows: list[tuple]) -> str:
    groups: dict[str, list] = {}
    for r in rows:
        (_, _, code, label, unit, value, n, q1, med, q3, rank, kind, group, secret) = r
        refs = [F.SECRET] * 4 if secret else [F.number(x, kind) for x in (q1, med, q3)] + [F.number(rank, "score")]  # fmt: skip
        css = "secret" if secret else ""
        groups.setdefault(group, []).append(
            [H.Cell(f"{code} — {label}"), H.Cell(unit), H.Cell(F.number(value, kind), num=True),
             H.Cell(refs[3], num=True, css=css), H.Cell(refs[0], num=True, css=css),
             H.Cell(refs[1], num=True, css=css), H.Cell(refs[2], num=True, css=css),
             H.Cell(F.number(n, "int"), num=True)]
        )  # fmt: skip
    table = H.simple_table(
        "Valeur déclarée par le pôle et repères nationaux, par objectif",
        [("Indicateur", False), ("Unité", False), ("Valeur du pôle", True), ("Rang (0 à 100)", True),
         ("1er quartile", True), ("Médiane", True), ("3e quartile", True), ("Pôles répondants", True)],
        list(groups.items()),
        tid="indicateurs",
    )  # fmt: skip
    return '<h2 id="indicateurs-titre">Indicateurs</h2>' + table


def _criteria_section(ref: Referentiel, rows: list[tuple]) -> str:
    if not rows:
        return ""
    groups: dict[str, list] = {}
    for _, _, ctype, code, label, answer, why in rows:
        groups.setdefault(ctype, []).append(
            [H.Cell(f"{code} — {label}"), H.Cell(F.MISSING if F.is_missing(answer) else answer),
             H.Cell("" if F.is_missing(why) else str(why))]
        )  # fmt: skip
    table = H.simple_table(
        "Réponses du pôle aux critères de labellisation",
        [("Critère", False), ("Réponse", False), ("Justification", False)],
        list(groups.items()),
        tid="criteres",
    )
    note = "« En partie » ne vaut pas critère rempli : il est compté à part."
    return f'<h2 id="labellisation">Labellisation</h2><p>{note}</p>{table}'


def _members_section(rows: list[tuple]) -> str:
    if not rows:
        return ""
    cells = [
        [H.Cell(str(nom)), H.Cell(cat), H.Cell(form),
         H.Cell(F.MISSING if F.is_missing(year) else str(year), num=True)]
        for _, _, _, nom, cat, form, year in rows
    ]  # fmt: skip
    table = H.simple_table(
        f"Organisations membres ({len(rows)})",
        [("Organisation", False), ("Catégorie", False), ("Forme juridique", False),
         ("Année d'adhésion", True)],
        [(None, cells)],
        tid="membres",
    )  # fmt: skip
    return '<h2 id="membres-titre">Membres</h2>' + table
