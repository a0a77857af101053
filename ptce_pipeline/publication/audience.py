"""Who a publication is for, and the open-data release's tables.

Three audiences per period: `public` (the open-data release), `interne` (the national team:
everything, « Diffusion restreinte ») and `pole` (a pole's own fiche, in its retours/ folder).

The public tables are the national and territorial aggregates, re-masked with the statistical
secret of `secret` on every restricted field (frequency, dominance, secondary suppression over
every table, margin and total; quartiles and medians only over `QUANTILE_MIN` poles), plus the
public per-pole fields (the directory of poles). Fields public pole by pole (counts of poles,
of members) are not masked: they are public anyway. No pole-by-pole view of a restricted field
(no nanoplot, rank, profile, fiche), no completeness or quality page.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from .data import PUBLIC_IDENTITY, PeriodData
from .members import HIDDEN_NAME, person_forms
from .recensement import UNKNOWN
from .secret import QUANTILE_MIN, Cell, Group, primary, suppress
from .tables import Col, Table

PUBLIC, INTERNAL, POLE = "public", "interne", "pole"
AUDIENCES = {
    PUBLIC: "Tout public (données ouvertes, Licence Ouverte / etalab-2.0)",
    INTERNAL: "Diffusion restreinte : équipe nationale d'animation des PTCE",
    POLE: "Diffusion restreinte : le pôle concerné et l'équipe nationale",
}
RESTRICTED_MARK = "Diffusion restreinte"
PUBLIC_SECTIONS = ("index", "recensement", "capitalisation")
PUBLIC_KEYS = (
    "recensement_regions",
    "recensement_departements",
    "recensement_typologie",
    "recensement_categories",
    "recensement_formes",
    "recensement_taille",
    "recensement_emplois_budgets",
    "capitalisation",
)
MEMBERS_ETP = "membres.etp"


def _total(code: str) -> str:
    return f"{code}.total"


def _pole_values(data: PeriodData, code: str) -> pd.Series:
    rows = data.ranks[(data.ranks["indicator_code"] == code) & data.ranks["value"].notna()]
    return rows.set_index("pole_id")["value"]


def _cells(ref: Referentiel, data: PeriodData) -> tuple[dict[str, Cell], list[Group]]:
    """Every published sum of a restricted field, and the relations between them."""
    cells: dict[str, Cell] = {}
    groups: list[Group] = []
    for ind in ref.indicators:
        if ind.public:  # public pole by pole: nothing to protect in its aggregates
            continue
        values = _pole_values(data, ind.code)
        cell = Cell.of(values.tolist())
        if cell is not None:
            cells[_total(ind.code)] = cell
    jobs = _pole_values(data, "IND22")
    regions = _region_labels(ref, data)
    parts = []
    jobs_public = "IND22" not in ref.indicator_by_code or ref.indicator_by_code["IND22"].public
    for name in sorted(set(regions.values()) if not jobs_public else ()):
        ids = [p for p, r in regions.items() if r == name]
        cell = Cell.of(jobs.reindex(ids).tolist())
        if cell is not None:
            cells[f"IND22.region.{name}"] = cell
            parts.append(f"IND22.region.{name}")
    groups.append(Group(tuple(parts), _total("IND22")))
    etp = ref.member_by_key.get("etp")
    if etp is not None and etp.public:
        return cells, groups
    per_pole = data.members.groupby("pole_id")["etp"].sum(min_count=1)
    cell = Cell.of(per_pole.tolist())
    if cell is not None:
        cells[MEMBERS_ETP] = cell
    for column in ("categorie", "forme_juridique"):
        parts = []
        for code, rows in data.members.groupby(column):
            name = _member_cell(column, str(code))
            cell = Cell.of(rows.groupby("pole_id")["etp"].sum(min_count=1).tolist())
            if cell is not None:
                cells[name] = cell
                parts.append(name)
        groups.append(Group(tuple(sorted(parts)), MEMBERS_ETP))
    return cells, groups


def _member_cell(column: str, code: str) -> str:
    return f"{MEMBERS_ETP}.{column}.{code}"


def _region_labels(ref: Referentiel, data: PeriodData) -> dict[str, str]:
    geo = ref.geography
    return {
        p: (geo.regions.get(c, c) if c else UNKNOWN)
        for p, c in zip(data.poles["pole_id"], data.poles["region"], strict=True)
    }


def masks(ref: Referentiel, data: PeriodData) -> set[str]:
    cells, groups = _cells(ref, data)
    return suppress(cells, groups)


SECRET_NOTE = (
    f"Secret statistique (données ouvertes) : « {F.SECRET} » masque un agrégat d'un champ à "
    f"diffusion restreinte portant sur moins de {F.SECRET_MIN} pôles ou dont un pôle dépasse "
    f"85 %, et les cases qui permettraient de le retrouver par différence ; quartiles et "
    f"médianes sur au moins {QUANTILE_MIN} pôles."
)


def _retitle(table: Table, frame: pd.DataFrame, cols: list[Col]) -> Table:
    return dataclasses.replace(
        table,
        frame=frame,
        cols=cols,
        link_poles=frozenset(),
        notes=[*table.notes, SECRET_NOTE],
    )


def _regions(ref: Referentiel, data: PeriodData, table: Table, masked: set[str]) -> Table:
    frame = table.frame.copy()
    jobs = frame.columns[4]
    frame["_secret_jobs"] = [
        (_total("IND22") if total else f"IND22.region.{name}") in masked
        for name, total in zip(frame["Région"], frame["_total"], strict=True)
    ]
    cols = [
        dataclasses.replace(c, secret=False)
        if c.key == "Membres"
        else dataclasses.replace(c, secret_by="_secret_jobs")
        if c.key == jobs
        else c
        for c in table.cols
    ]
    return _retitle(table, frame, cols)


def _membership(ref: Referentiel, table: Table, column: str, masked: set[str]) -> Table:
    frame = table.frame.copy()
    labels = {v.label: v.code for v in ref.lists[
        "categories_membres" if column == "categorie" else "formes_juridiques"
    ].values}  # fmt: skip
    stub = frame.columns[0]
    frame["_secret_etp"] = [
        (MEMBERS_ETP if total else _member_cell(column, labels.get(label, label))) in masked
        for label, total in zip(frame[stub], frame["_total"], strict=True)
    ]
    cols = [
        dataclasses.replace(c, secret_by="_secret_etp")
        if c.key == "ETP des membres"
        else dataclasses.replace(c, secret=False)
        if c.secret
        else c
        for c in table.cols
    ]
    return _retitle(table, frame, cols)


def _distribution(
    ref: Referentiel,
    data: PeriodData,
    table: Table,
    masked: set[str],
    codes_col: str,
    secret: bool = True,
) -> Table:
    """Rows of indicators: totals and means under the secret, quartiles over ≥ 10 poles."""
    frame = table.frame.copy()
    n_col = "Pôles répondants"
    totals, quantiles = [], []
    for code, n in zip(frame[codes_col], frame[n_col], strict=True):
        if code not in ref.indicator_by_code:  # members per pole: public pole by pole
            totals.append(False)
            quantiles.append(False)
            continue
        ind = ref.indicator_by_code[code]
        if ind.public or not secret:
            totals.append(False)
            quantiles.append(False)
            continue
        name = _total(code)
        totals.append(name in masked or F.masked(n))
        quantiles.append(bool(F.masked(n) or int(n or 0) < QUANTILE_MIN))
    frame["_secret_total"] = totals
    frame["_secret_q"] = quantiles
    if "_secret_prev" in frame:
        prev = frame[f"Pôles répondants {data.period - 1}"]
        frame["_secret_prev"] = [secret and int(n or 0) < QUANTILE_MIN for n in prev]
        frame["_secret_evol"] = frame["_secret_q"] | frame["_secret_prev"]
    cols = []
    for c in table.cols:
        if c.kind == "plot":
            continue  # one mark per pole: a pole-by-pole view of a restricted field
        if c.key in ("Total", "Moyenne"):
            c = dataclasses.replace(c, secret_by="_secret_total")
        elif c.key in ("1er quartile", "Médiane", "3e quartile"):
            c = dataclasses.replace(c, secret_by="_secret_q")
        cols.append(c)
    return _retitle(table, frame, cols)


def directory(ref: Referentiel, data: PeriodData) -> Table:
    """The poles and their public fields, one row per pole (the open-data directory)."""
    frame = pd.DataFrame({"Pôle": data.poles["pole_id"]})
    cols = [Col("Pôle")]
    for spec in ref.identity:
        if spec.key not in PUBLIC_IDENTITY or not spec.public or spec.key not in data.poles:
            continue
        values = data.poles[spec.key]
        if spec.liste:
            names = ref.lists[spec.liste]
            values = [names.label_of(v) or v for v in values]
        elif spec.key == "region":
            values = [ref.geography.regions.get(v, v) for v in values]
        frame[spec.label] = list(values)
        cols.append(Col(spec.label))
    members = ref.member_by_key.get("nom")
    if members is None or members.public:
        frame["Membres"] = data.poles["n_members"].astype(int).tolist()
        cols.append(Col("Membres", "int"))
    return Table(
        key="annuaire_poles",
        page="index",
        title=f"Les pôles dont la déclaration {data.period} est {data.kept_label}",
        subtitle="Champs publics de la feuille Identité (référentiel : diffusion « publique »)",
        frame=frame,
        cols=cols,
        sheet="Pôles",
        stub="Pôle",
        notes=["Seuls les champs dont la diffusion est « publique » sont repris."],
        masking=False,
        in_html=False,
        fast=True,
    )


def members_directory(ref: Referentiel, data: PeriodData) -> Table | None:
    """Members of each pole, their public columns only; a person's name is never shown."""

    m = data.members
    frame = pd.DataFrame({"Pôle": m["pole_id"].tolist(), "N°": m["member_no"].tolist()})
    cols = [Col("Pôle"), Col("N°", "int")]
    labels = {"nom": "Organisation membre", "categorie": "Catégorie", "forme_juridique": "Forme juridique"}  # fmt: skip
    for key, header in labels.items():
        spec = ref.member_by_key.get(key)
        if spec is None or not spec.public or key not in m:
            continue
        values = m[key]
        if key == "nom":
            values = values.where(~m["forme_juridique"].isin(person_forms(ref)), HIDDEN_NAME)
        elif spec.liste:
            names = ref.lists[spec.liste]
            values = [names.label_of(v) or v for v in values]
        frame[header] = list(values)
        cols.append(Col(header))
    if len(cols) == 2:
        return None
    return Table(
        key="annuaire_membres",
        page="index",
        title=f"Les organisations membres des pôles, {data.period}",
        subtitle="Colonnes publiques de la feuille Membres",
        frame=frame,
        cols=cols,
        sheet="Membres des pôles",
        stub="Pôle",
        notes=[
            "Une entreprise individuelle est listée sans son nom (c'est le nom d'une personne)."
        ],
        masking=False,
        in_html=False,
        fast=True,
    )


def public_tables(
    ref: Referentiel, data: PeriodData, tables: list[Table], *, secret: bool = True
) -> list[Table]:
    """The open-data tables; `secret=False` gives the same cells unmasked (for audits)."""
    masked = masks(ref, data) if secret else set()
    by_key = {t.key: t for t in tables}
    out = []
    for key in PUBLIC_KEYS:
        table = by_key.get(key)
        if table is None:
            continue
        if key == "recensement_regions":
            table = _regions(ref, data, table, masked)
        elif key == "recensement_categories":
            table = _membership(ref, table, "categorie", masked)
        elif key == "recensement_formes":
            table = _membership(ref, table, "forme_juridique", masked)
        elif key in ("recensement_emplois_budgets", "capitalisation"):
            table = _distribution(ref, data, table, masked, "Code", secret)
        out.append(table)
    out.append(directory(ref, data))
    members = members_directory(ref, data)
    if members is not None:
        out.append(members)
    return out


__all__ = ["AUDIENCES", "Cell", "primary", "public_tables"]
