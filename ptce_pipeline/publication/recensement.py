"""Recensement: who the poles are (where, what kind, with whom) and their jobs and budgets.

Counts of poles are the `n` of each row and are published as they are (the list of poles is
public); sums, shares, means and quartiles over fewer than 3 poles are masked.
"""

from __future__ import annotations

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel, fold

from . import fmt as F
from .data import TYPOLOGY, PeriodData
from .tables import Col, Table

PAGE = "recensement"
UNKNOWN = "Non renseigné"
SIZE_CLASSES = ((0, 4, "Moins de 5 membres"), (5, 9, "5 à 9"), (10, 19, "10 à 19"), (20, 49, "20 à 49"), (50, None, "50 et plus"))  # fmt: skip


def _share(n, total) -> float | None:
    return 100.0 * n / total if total else None


def _champ(data: PeriodData) -> str:
    n, expected = len(data.poles), len(data.expected)
    return (
        f"Champ : les {n} pôles dont la déclaration {data.period} est {data.kept_label} "
        f"(sur {expected} pôles attendus)."
    )


def _indicator_values(data: PeriodData, code: str) -> pd.Series:
    rows = data.ranks[(data.ranks["indicator_code"] == code) & data.ranks["value"].notna()]
    return rows.set_index("pole_id")["value"]


def regions(ref: Referentiel, data: PeriodData) -> Table:
    geo = ref.geography
    jobs = ref.indicator_by_code.get("IND22")
    poles = data.poles.copy()
    poles["_region"] = [geo.regions.get(c, c) if c else UNKNOWN for c in poles["region"]]
    if jobs is not None:
        poles["_jobs"] = poles["pole_id"].map(_indicator_values(data, jobs.code))
    else:
        poles["_jobs"] = None
    total = len(poles)
    grouped = poles.groupby("_region", dropna=False).agg(
        n=("pole_id", "size"),
        members=("n_members", "sum"),
        jobs=("_jobs", "sum"),
        jobs_n=("_jobs", "count"),
    )
    rows = []
    for name in sorted(grouped.index, key=fold):
        g = grouped.loc[name]
        rows.append((name, int(g.n), g.members, g.jobs if g.jobs_n else None, False))
    rows.append(
        (
            "Ensemble",
            total,
            poles["n_members"].sum(),
            poles["_jobs"].sum() if poles["_jobs"].notna().any() else None,
            True,
        )
    )
    jobs_label = f"{jobs.label} ({jobs.unit})" if jobs else "Emplois"
    frame = pd.DataFrame(
        {
            "Région": [r[0] for r in rows],
            "Pôles": [r[1] for r in rows],
            "Part des pôles (%)": [_share(r[1], total) for r in rows],
            "Membres": [r[2] for r in rows],
            jobs_label: [r[3] for r in rows],
            "_total": [r[4] for r in rows],
        }
    )
    frame["_secret"] = [F.masked(n) for n in frame["Pôles"]]
    return Table(
        key="recensement_regions",
        page=PAGE,
        title=f"Pôles par région, {data.period}",
        subtitle="Nombre de pôles, membres et emplois directs déclarés",
        frame=frame,
        cols=[
            Col("Région"),
            Col("Pôles", "int"),
            Col("Part des pôles (%)", "share", label="Part des pôles"),
            Col("Membres", "int", secret=True),
            Col(jobs_label, "fte", secret=True),
        ],
        sheet="Régions",
        stub="Région",
        notes=[_champ(data)],
    )


def departements(ref: Referentiel, data: PeriodData) -> Table:
    geo = ref.geography
    poles = data.poles
    total = len(poles)
    counts = poles.groupby(poles["departement"].fillna(""), dropna=False).size()
    rows = []
    for code, n in counts.items():
        name, region = geo.departements.get(code, (code or UNKNOWN, ""))
        label = f"{code} — {name}" if code in geo.departements else (code or UNKNOWN)
        rows.append((geo.regions.get(region, UNKNOWN), label, code, int(n)))
    rows.sort(key=lambda r: (fold(r[0]), r[2]))
    frame = pd.DataFrame(
        {
            "Région": [r[0] for r in rows],
            "Département": [r[1] for r in rows],
            "Pôles": [r[3] for r in rows],
            "Part des pôles (%)": [_share(r[3], total) for r in rows],
        }
    )
    frame["_group"] = frame["Région"]
    return Table(
        key="recensement_departements",
        page=PAGE,
        title=f"Pôles par département, {data.period}",
        subtitle="Département du siège déclaré, regroupé par région",
        frame=frame,
        cols=[
            Col("Région", html=False),
            Col("Département"),
            Col("Pôles", "int"),
            Col("Part des pôles (%)", "share", label="Part des pôles"),
        ],
        sheet="Départements",
        stub="Département",
        notes=[_champ(data)],
        masking=False,
    )


def typologie(ref: Referentiel, data: PeriodData) -> Table:
    poles = data.poles
    total = len(poles)
    rows = []
    for key in TYPOLOGY:
        spec = ref.identity_by_key.get(key)
        if spec is None or not spec.liste:
            continue
        values = ref.lists[spec.liste].values
        counts = poles[key].value_counts(dropna=True)
        known = {v.code for v in values}
        for v in values:
            rows.append((spec.label, v.label, int(counts.get(v.code, 0))))
        other = total - int(sum(counts.get(c, 0) for c in known))
        if other:
            rows.append((spec.label, UNKNOWN, other))
    frame = pd.DataFrame(rows, columns=["Critère", "Modalité", "Pôles"])
    frame["Part des pôles (%)"] = [_share(n, total) for n in frame["Pôles"]]
    frame["_group"] = frame["Critère"]
    return Table(
        key="recensement_typologie",
        page=PAGE,
        title=f"Pôles selon le type de territoire, l'échelle, l'origine et le secteur, {data.period}",
        subtitle="Typologie déclarée dans la feuille Identité",
        frame=frame,
        cols=[
            Col("Critère", html=False),
            Col("Modalité"),
            Col("Pôles", "int"),
            Col("Part des pôles (%)", "share", label="Part des pôles"),
        ],
        sheet="Typologie",
        stub="Modalité",
        notes=[_champ(data)],
        masking=False,
    )


def _membership(ref: Referentiel, data: PeriodData, column: str, liste: str, key: str) -> Table:
    members = data.members
    codes = ref.lists[liste]
    grouped = members.groupby(column).agg(
        members=("member_no", "size"),
        poles=("pole_id", "nunique"),
        etp=("etp", "sum"),
        etp_n=("etp", "count"),
    )
    total_members = len(members)
    rows = []
    seen = set()
    for v in codes.values:
        seen.add(v.code)
        if v.code in grouped.index:
            g = grouped.loc[v.code]
            rows.append((v.label, g.members, int(g.poles), g.etp if g.etp_n else None, False))
        else:
            rows.append((v.label, 0, 0, None, False))
    for code in grouped.index:
        if code not in seen:
            g = grouped.loc[code]
            rows.append((UNKNOWN, g.members, int(g.poles), g.etp if g.etp_n else None, False))
    rows.append(
        (
            "Ensemble",
            total_members,
            members["pole_id"].nunique(),
            members["etp"].sum() if members["etp"].notna().any() else None,
            True,
        )
    )
    label = ref.member_by_key.get(column).label if column in ref.member_by_key else codes.label
    frame = pd.DataFrame(
        {
            label: [r[0] for r in rows],
            "Membres": [r[1] for r in rows],
            "Part des membres (%)": [_share(r[1], total_members) for r in rows],
            "Pôles concernés": [r[2] for r in rows],
            "ETP des membres": [r[3] for r in rows],
            "_total": [r[4] for r in rows],
        }
    )
    frame["_secret"] = [F.masked(n) for n in frame["Pôles concernés"]]
    what = "catégorie" if column == "categorie" else "forme juridique"
    return Table(
        key=key,
        page=PAGE,
        title=f"Membres des pôles par {what}, {data.period}",
        subtitle="Organisations membres déclarées dans la feuille Membres",
        frame=frame,
        cols=[
            Col(label),
            Col("Membres", "int", secret=True),
            Col("Part des membres (%)", "share", label="Part des membres", secret=True),
            Col("Pôles concernés", "int"),
            Col("ETP des membres", "fte", secret=True),
        ],
        sheet="Membres par catégorie" if column == "categorie" else "Membres par forme",
        stub=label,
        notes=[
            _champ(data),
            "« Pôles concernés » : pôles comptant au moins un membre de ce type ; "
            "c'est le nombre de pôles sur lequel repose la ligne.",
        ],
    )


def categories(ref: Referentiel, data: PeriodData) -> Table:
    return _membership(ref, data, "categorie", "categories_membres", "recensement_categories")


def formes(ref: Referentiel, data: PeriodData) -> Table:
    return _membership(ref, data, "forme_juridique", "formes_juridiques", "recensement_formes")


def taille(ref: Referentiel, data: PeriodData) -> Table:
    sizes = data.poles["n_members"]
    total = len(sizes)
    rows = []
    for low, high, label in SIZE_CLASSES:
        inside = (sizes >= low) & (sizes <= high) if high is not None else sizes >= low
        rows.append((label, int(inside.sum())))
    frame = pd.DataFrame(rows, columns=["Nombre de membres", "Pôles"])
    frame["Part des pôles (%)"] = [_share(n, total) for n in frame["Pôles"]]
    return Table(
        key="recensement_taille",
        page=PAGE,
        title=f"Pôles selon leur nombre de membres, {data.period}",
        subtitle="Le décret de 2015 demande au moins 3 personnes morales ; "
        "le référentiel retient 5 à 10 organisations",
        frame=frame,
        cols=[
            Col("Nombre de membres"),
            Col("Pôles", "int"),
            Col("Part des pôles (%)", "share", label="Part des pôles"),
        ],
        sheet="Taille",
        stub="Nombre de membres",
        notes=[_champ(data)],
        masking=False,
    )


JOBS = ("IND22", "IND23", "IND24")
BUDGETS = ("IND25", "IND08", "IND26")


def _stats_row(values: pd.Series) -> dict:
    values = values.dropna()
    n = len(values)
    return {
        "n": n,
        "total": values.sum() if n else None,
        "mean": values.mean() if n else None,
        "q1": values.quantile(0.25) if n else None,
        "median": values.quantile(0.5) if n else None,
        "q3": values.quantile(0.75) if n else None,
    }


def emplois_budgets(ref: Referentiel, data: PeriodData) -> Table:
    stats = data.stats[data.stats["period"] == data.period].set_index("indicator_code")
    rows = []
    size = _stats_row(data.poles["n_members"].astype(float))
    rows.append(("Composition", "Membres par pôle", "—", "nombre", "count", True, size))
    for group, codes in (("Emplois", JOBS), ("Budgets", BUDGETS)):
        for code in codes:
            ind = ref.indicator_by_code.get(code)
            if ind is None:
                continue
            s = stats.loc[code].to_dict() if code in stats.index else {"n": 0}
            rows.append((group, ind.label, code, ind.unit, ind.kind, ind.total, s))
    frame = pd.DataFrame(
        {
            "Groupe": [r[0] for r in rows],
            "Indicateur": [r[1] for r in rows],
            "Code": [r[2] for r in rows],
            "Unité": [r[3] for r in rows],
            "Pôles répondants": [int(r[6].get("n") or 0) for r in rows],
            "Total": [r[6].get("total") if r[5] else None for r in rows],
            "Moyenne": [r[6].get("mean") for r in rows],
            "1er quartile": [r[6].get("q1") for r in rows],
            "Médiane": [r[6].get("median") for r in rows],
            "3e quartile": [r[6].get("q3") for r in rows],
            "_kind": [r[4] for r in rows],
        }
    )
    frame["_group"] = frame["Groupe"]
    frame["_secret"] = [F.masked(n) for n in frame["Pôles répondants"]]
    spanner = "Distribution entre pôles"
    return Table(
        key="recensement_emplois_budgets",
        page=PAGE,
        title=f"Taille, emplois et budgets des pôles, {data.period}",
        subtitle="Total quand il a un sens (pas pour un pourcentage), moyenne, quartiles",
        frame=frame,
        cols=[
            Col("Groupe", html=False),
            Col("Indicateur"),
            Col("Code", html=False),
            Col("Unité"),
            Col("Pôles répondants", "int"),
            Col("Total", "row", secret=True),
            Col("Moyenne", "row", secret=True, spanner=spanner),
            Col("1er quartile", "row", secret=True, spanner=spanner),
            Col("Médiane", "row", secret=True, spanner=spanner),
            Col("3e quartile", "row", secret=True, spanner=spanner),
        ],
        sheet="Emplois et budgets",
        stub="Indicateur",
        notes=[
            _champ(data),
            "Quartiles calculés par interpolation linéaire entre les valeurs observées.",
        ],
    )


def all_tables(ref: Referentiel, data: PeriodData) -> list[Table]:
    return [
        regions(ref, data),
        departements(ref, data),
        typologie(ref, data),
        categories(ref, data),
        formes(ref, data),
        taille(ref, data),
        emplois_budgets(ref, data),
    ]
