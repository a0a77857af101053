"""The national tables, as data frames (for xlsx/csv/parquet) and great-tables objects (HTML).

Pole text is never passed through markdown or raw-HTML formatters: great-tables ≥ 1.0
escapes unformatted body cells. Aggregates over fewer than 3 poles are masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from great_tables import GT, loc, style

from ..referentiel import Referentiel
from .data import SECRET_MIN, PeriodData, mask

SECRET = "secret stat."


@dataclass
class Table:
    key: str  # file and id stem
    title: str
    subtitle: str
    frame: pd.DataFrame  # what goes to xlsx/csv/parquet (French headers)
    gt: GT | None = None
    note: str = ""


def _fr(value, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def _base(gt: GT, title: str, subtitle: str, notes: list[str]) -> GT:
    gt = gt.tab_header(title=title, subtitle=subtitle)
    for note in notes:
        gt = gt.tab_source_note(note)
    return gt.tab_options(
        table_font_size="14px",
        heading_title_font_size="20px",
        column_labels_background_color="#1F3864",
        table_width="100%",
    )


def capitalisation(ref: Referentiel, data: PeriodData, notes: list[str]) -> Table:
    nat = data.indicators.set_index("indicator_code") if len(data.indicators) else pd.DataFrame()
    prev = data.previous.set_index("indicator_code") if data.previous is not None else None
    rows = []
    for ind in ref.indicators:
        general = ref.objective_by_code[ind.general]
        main = ref.objective_by_code[ind.objective]
        r = nat.loc[ind.code] if ind.code in nat.index else None
        n = int(r["n_poles"]) if r is not None else 0
        hidden = mask(n)
        vals = data.values[(data.values.indicator_code == ind.code) & data.values.value.notna()][
            "value"
        ]
        evolution = None
        if (
            prev is not None
            and ind.code in prev.index
            and not hidden
            and not mask(prev.loc[ind.code]["n_poles"])
        ):
            old = prev.loc[ind.code]["median"]
            if old and not pd.isna(old):
                evolution = (float(r["median"]) - float(old)) / abs(float(old)) * 100
        rows.append(
            {
                "Objectif général": f"{general.code} — {general.label}",
                "Objectif principal": f"{main.code} — {main.label}",
                "Code": ind.code,
                "Indicateur": ind.label,
                "Unité": ind.unit,
                "Pôles répondants": n,
                "Total": (None if hidden or not ind.total else float(r["total"]))
                if r is not None
                else None,
                "Médiane": None if hidden or r is None else float(r["median"]),
                "1er quartile": None if hidden or r is None else float(r["q1"]),
                "3e quartile": None if hidden or r is None else float(r["q3"]),
                "Évolution de la médiane (%)": evolution,
                "_dist": " ".join(f"{v:g}" for v in sorted(vals))
                if not hidden and len(vals)
                else "",
                "_secret": hidden,
            }
        )
    frame = pd.DataFrame(rows)
    export = frame.drop(columns=["_dist", "_secret"])
    shown = frame.copy()
    for col in ("Total", "Médiane", "1er quartile", "3e quartile"):
        shown[col] = [
            SECRET
            if s and col != "Total"
            else _fr(v, 2 if v is not None and not float(v).is_integer() else 0)
            if v is not None
            else ("—" if not s else SECRET)
            for v, s in zip(shown[col], shown["_secret"], strict=True)
        ]
    shown["Évolution de la médiane (%)"] = [
        ("—" if v is None else ("+" if v > 0 else "") + _fr(v, 1))
        for v in shown["Évolution de la médiane (%)"]
    ]
    shown["Distribution"] = shown["_dist"]
    shown = shown.drop(columns=["_dist", "_secret", "Objectif général"])
    shown.insert(0, "groupe", frame["Objectif général"] + " · " + frame["Objectif principal"])
    shown = shown.drop(columns=["Objectif principal"])
    gt = GT(shown, id="capitalisation", groupname_col="groupe", locale="fr")
    has_plot = shown["Distribution"].str.len().gt(0)
    if has_plot.any():
        gt = gt.fmt_nanoplot(
            columns="Distribution", plot_type="bar", rows=list(has_plot[has_plot].index)
        )
    gt = gt.tab_spanner(
        label="Distribution nationale",
        columns=["Médiane", "1er quartile", "3e quartile", "Distribution"],
    )
    gt = _base(
        gt,
        f"Capitalisation {data.period} — les {len(ref.indicators)} indicateurs du référentiel",
        "Pôles répondants, total quand il a un sens, médiane et quartiles",
        notes,
    )
    return Table("capitalisation", "Capitalisation", f"Indicateurs {data.period}", export, gt)


def completude(data: PeriodData, notes: list[str]) -> Table:
    comp = data.completeness
    status_fr = {
        "acceptee": "Acceptée",
        "acceptee_avec_avertissements": "Acceptée avec avertissements",
        "refusee": "Refusée",
        "manquante": "Manquante",
        "retenue": "Retenue (campagne close)",
        "en_attente": "En attente",
        "en_erreur": "En erreur",
        "retiree": "Retirée",
    }
    frame = pd.DataFrame(
        {
            "Pôle": comp["pole_id"],
            "Nom": comp["pole_name"],
            "Statut": [status_fr.get(s, s) for s in comp["status"]],
            "En retard": ["oui" if bool(x) else "non" for x in comp["late"].fillna(False)],
            "Avertissements": [int(x) if not pd.isna(x) else 0 for x in comp["n_warnings"]],
        }
    )
    counts = frame["Statut"].value_counts()
    summary = " · ".join(f"{k} : {v}" for k, v in counts.items())
    gt = _base(
        GT(frame, id="completude", locale="fr"),
        f"Complétude et qualité {data.period}",
        f"{len(frame)} pôles attendus — {summary}",
        notes,
    )
    gt = gt.tab_style(
        style=style.text(weight="bold", color="#B00020"),
        locations=loc.body(
            columns="Statut", rows=frame.index[frame["Statut"] != "Acceptée"].tolist()
        ),
    )
    return Table(
        "completude",
        "Complétude et qualité",
        f"Statut de chaque pôle attendu en {data.period}",
        frame,
        gt,
    )


def recensement_regions(ref: Referentiel, data: PeriodData, notes: list[str]) -> Table:
    ident = (
        data.identity.pivot_table(index="pole_id", columns="field", values="value", aggfunc="first")
        if len(data.identity)
        else pd.DataFrame(columns=["region", "departement"])
    )
    geo = ref.geography
    counts = ident.groupby("region").size() if "region" in ident else pd.Series(dtype=int)
    rows = [{"Région": geo.regions.get(code, code), "Pôles": int(n)} for code, n in counts.items()]
    frame = (
        pd.DataFrame(rows, columns=["Région", "Pôles"]).sort_values("Région").reset_index(drop=True)
    )
    gt = _base(
        GT(frame, id="recensement", locale="fr"),
        f"Recensement {data.period} — pôles par région",
        f"{len(ident)} pôles ayant une déclaration acceptée",
        notes,
    )
    return Table(
        "recensement",
        "Recensement",
        f"Pôles par région en {data.period}",
        frame,
        gt,
        note=f"Effectifs inférieurs à {SECRET_MIN} non masqués : ce sont des dénombrements de pôles.",
    )
