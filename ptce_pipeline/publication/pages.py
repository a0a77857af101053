"""The pages around the tables: the period's home page (key figures, every table, every fiche,
downloads, notes), one page per section, and the list of published periods."""

from __future__ import annotations

import os
from pathlib import Path

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from . import html as H
from . import scope
from .audience import INTERNAL
from .data import PeriodData
from .fiches import fiche_ids
from .render import render_html
from .tables import Table

e = H.e

INTROS = {
    "recensement": "Qui sont les pôles : où ils se trouvent, quel territoire ils couvrent, "
    "comment ils sont nés, avec quelles organisations ils coopèrent, combien d'emplois ils "
    "représentent et de quels budgets ils disposent.",
    "capitalisation": "Les indicateurs du référentiel d'action, regroupés par objectif général "
    "et objectif principal : combien de pôles les renseignent, leur total quand il a un sens, "
    "leur distribution entre pôles et l'évolution de la médiane.",
    "labellisation": "Les critères de labellisation : critères incontournables et critères à "
    "tester remplis par chaque pôle, et les réponses des pôles à chaque critère. « En partie » "
    "est compté à part et ne vaut pas critère rempli.",
    "profils": "Le profil d'un pôle à un instant déterminé : pour chacun des objectifs "
    "principaux, le rang moyen de ses indicateurs dans la distribution nationale, de 0 (plus "
    "faible valeur) à 100 (plus forte), 50 étant la médiane. Comparés par type de territoire "
    "et par secteur, les profils donnent au recensement sa typologie.",
    "completude": "Où en est la campagne : le statut de la déclaration de chaque pôle attendu, "
    "les retards, les avertissements et les erreurs relevés par les contrôles.",
}


def notes_for(ref: Referentiel, data: PeriodData) -> list[str]:
    campaign = data.campaign()
    if campaign and campaign.get("closed"):
        state = (
            f"Campagne {data.period} close le {F.date_fr(campaign['closed_at'])} : "
            "chiffres définitifs."
        )
    else:
        deadline = F.date_fr(campaign["deadline"]) if campaign else "non fixée"
        state = (
            f"Campagne {data.period} ouverte (date limite : {deadline}) : chiffres provisoires, "
            "susceptibles d'évoluer avec les déclarations à venir."
        )
    closed = [
        f"{int(c['period'])} (le {F.date_fr(c['closed_at'])})"
        for c in data.campaigns.to_dict("records")
        if bool(c["closed"]) and not F.is_missing(c["closed_at"])
    ]
    provisional = f" ({ref.note.rstrip('.')})" if ref.provisional and ref.note else ""
    return [
        f"Sources : déclarations annuelles (classeurs de suivi) déposées par les pôles et "
        f"acceptées après contrôle ; {len(data.poles)} déclarations prises en compte pour {data.period} "
        f"sur {len(data.expected)} pôles attendus.",
        f"{ref.title}, version {ref.version}{provisional}.",
        f"Publication du {F.datetime_fr(data.now)} : mise à jour n° {data.version} des "
        f"données {data.period}.",
        state,
        "Campagnes closes : " + (", ".join(closed) if closed else "aucune") + ".",
        f"Secret statistique : toute somme, moyenne, part, médiane, quartile ou rang portant sur "
        f"moins de {F.SECRET_MIN} pôles est masqué (« {F.SECRET} ») ; les nombres de pôles, "
        "qui disent sur combien de pôles repose chaque chiffre, sont publiés.",
        "Aucune donnée personnelle : ni le nom ni le courriel des contacts ne sont publiés.",
        "Nombres au format français ; quartiles et médianes par interpolation linéaire.",
    ]


def _downloads(table: Table) -> str:
    return (
        f'<p class="telecharger">Données : <a href="donnees/{table.key}.csv">CSV</a> · '
        f'<a href="donnees/{table.key}.parquet">Parquet</a> · feuille « {e(table.sheet)} » de '
        f'<a href="tableaux.xlsx">tableaux.xlsx</a></p>'
    )


def section_page(
    stem: str, tables: list[Table], data: PeriodData, footer: str, audience: str = INTERNAL
) -> str:
    title = dict(H.SECTIONS)[stem]
    toc = "".join(f'<li><a href="#h-{t.key}">{e(t.title)}</a></li>' for t in tables)
    summary = _summary(stem, tables, data)
    parts = [
        f"<h1>{e(title)} {data.period}</h1>",
        *([H.key_figures(summary)] if summary else []),  # a figure in a phone's first screen
        f'<p class="chapo">{e(INTROS.get(stem, ""))}</p>',
        f'<nav aria-label="Tableaux de la page"><ul class="toc">{toc}</ul></nav>',
    ]
    for t in tables:
        content = render_html(t) if len(t.frame) else f'<p class="bandeau-info">{e(t.empty)}</p>'
        parts.append(
            f'<section class="tableau" aria-labelledby="h-{t.key}">'
            f'<h2 id="h-{t.key}">{e(t.title)}</h2>{_downloads(t)}{content}</section>'
        )
    return H.page(
        title,
        "\n".join(parts),
        period=data.period,
        current=stem,
        footer=footer,
        audience=audience,
    )


def _summary(stem: str, tables: list[Table], data: PeriodData) -> list[tuple[str, str, str]]:
    """The key figures above a section's prose (capitalisation: how many indicators, how many
    poles, how many indicators published without the secret)."""
    table = next((t for t in tables if t.key == "capitalisation"), None)
    if stem != "capitalisation" or table is None or "Pôles répondants" not in table.frame:
        return []
    n = table.frame["Pôles répondants"]
    return [
        (F.number(len(table.frame), "int"), "indicateurs du référentiel", "suivis chaque année"),
        (
            F.number(len(data.poles), "int"),
            "pôles déclarants",
            f"sur {len(data.expected)} attendus",
        ),
        (
            F.number(int((n >= F.SECRET_MIN).sum()), "int"),
            "indicateurs renseignés par au moins " + f"{F.SECRET_MIN} pôles",
            f"sur {len(table.frame)}",
        ),
    ]


def _figures(ref: Referentiel, data: PeriodData, tables: dict[str, Table]) -> str:
    poles = data.poles
    n = len(poles)
    items = [(F.number(n, "int"), "pôles recensés", f"sur {len(data.expected)} attendus")]
    items.append(
        (
            F.SECRET if F.masked(n) else F.number(poles["n_members"].sum(), "int"),
            "organisations membres",
            f"n = {n} pôles",
        )
    )
    stats = data.stats[data.stats["period"] == data.period].set_index("indicator_code")
    for code, what, label in (("IND22", "total", None), ("IND25", "median", "médian")):
        ind = ref.indicator_by_code.get(code)
        if ind is None or code not in stats.index:
            continue
        s = stats.loc[code]
        value = F.SECRET if F.masked(s["n"]) else F.number(s[what], ind.kind)
        text = f"{ind.label} ({label})" if label else f"{ind.label} ({ind.unit}, total)"
        items.append((value, text, f"n = {int(s['n'])} pôles"))
    lab = tables.get("labellisation_poles")
    if lab is not None and "Tous les incontournables remplis" in lab.frame:
        met = int((lab.frame["Tous les incontournables remplis"] == "oui").sum())
        plural = ref.criterion_types.get("incontournable", ("", "critères incontournables"))[1]
        items.append((F.number(met, "int"), f"pôles remplissant tous les {plural.lower()}", f"sur {n}"))  # fmt: skip
    return H.key_figures(items)


def index_page(ref: Referentiel, data: PeriodData, tables: list[Table], footer: str) -> str:
    by_key = {t.key: t for t in tables}
    campaign = data.campaign()
    closed = bool(campaign and campaign.get("closed"))
    banner = (
        f'<p class="bandeau-info">Campagne {data.period} close le '
        f"{e(F.date_fr(campaign['closed_at']))} : chiffres définitifs.</p>"
        if closed
        else f'<p class="bandeau-info provisoire">Campagne {data.period} ouverte : chiffres '
        "provisoires, susceptibles d'évoluer avec les déclarations à venir.</p>"
    )
    waiting = scope.banner(data)
    if waiting and not closed:
        banner += f'\n<p class="bandeau-info provisoire relecture">{e(waiting)}.</p>'
    states = dict(zip(data.review["pole_id"], data.review["review_state"], strict=True))
    cards = []
    for stem, label in H.SECTIONS[1:]:
        own = [t for t in tables if t.page == stem and t.in_html]
        items = "".join(f'<li><a href="{stem}.html#h-{t.key}">{e(t.title)}</a></li>' for t in own)
        cards.append(
            f'<li><h3><a href="{stem}.html">{e(label)}</a></h3>'
            f"<p>{e(H_INTRO_SHORT[stem])}</p><ul>{items}</ul></li>"
        )
    ids = fiche_ids(data)
    poles = data.poles.set_index("pole_id")
    geo = ref.geography
    sectors = ref.lists.get("secteurs")
    rows = [
        [
            H.Cell(pid, href=f"poles/{pid}.html"),
            H.Cell(str(poles.at[pid, "nom"])),
            H.Cell(geo.regions.get(poles.at[pid, "region"], F.MISSING)),
            H.Cell(
                sectors.label_of(poles.at[pid, "secteur"]) or F.MISSING if sectors else F.MISSING
            ),
            H.Cell(F.number(poles.at[pid, "n_members"], "int"), num=True),
            H.Cell(
                vocabulary.capitalised(states.get(pid)),
                css="" if states.get(pid) == scope.SIGNED_OFF else "alerte",
            ),
        ]
        for pid in ids
    ]
    fiche_table = H.simple_table(
        f"Les {len(ids)} pôles dont la déclaration {data.period} est {data.kept_label}",
        [("Pôle", False), ("Nom", False), ("Région", False), ("Secteur principal", False),
         ("Membres", True), (scope.FLAG, False)],
        [(None, rows)],
        tid="liste-poles",
    )  # fmt: skip
    downloads = [
        [
            H.Cell(t.title),
            H.Cell(t.sheet[:31] if t.in_xlsx else "— (CSV et Parquet)"),
            H.Cell("CSV", href=f"donnees/{t.key}.csv"),
            H.Cell("Parquet", href=f"donnees/{t.key}.parquet"),
        ]
        for t in tables
    ]
    body = [
        f"<h1>Tableaux nationaux des PTCE — {data.period}</h1>",
        '<p class="chapo">Recensement et capitalisation des pôles territoriaux de coopération '
        "économique, établis à partir des déclarations annuelles des pôles, contrôlées et "
        "acceptées.</p>",
        banner,
        '<h2 id="chiffres">Chiffres clés</h2>',
        _figures(ref, data, by_key),
        '<h2 id="tableaux">Tableaux</h2>',
        f'<ul class="cartes">{"".join(cards)}</ul>',
        '<h2 id="fiches">Fiches pôles</h2>',
        "<p>Une page par pôle : son identité, son profil sur les objectifs principaux, ses "
        "indicateurs à côté des repères nationaux, ses critères de labellisation et ses "
        "membres.</p>",
        fiche_table,
        '<h2 id="telechargements">Télécharger les données</h2>',
        '<p><a href="tableaux.xlsx">tableaux.xlsx</a> (une feuille par tableau), et pour chaque '
        "tableau un fichier CSV (UTF-8, séparateur « ; », virgule décimale, s'ouvre dans Excel) et "
        'un fichier Parquet. <a href="manifest.json">manifest.json</a> dit quand la publication '
        "a été produite, avec quelle version du référentiel et à partir de quelles déclarations. "
        '<a href="../index.html">Toutes les périodes publiées</a>.</p>',
        H.simple_table(
            "Fichiers de données, tableau par tableau",
            [
                ("Tableau", False),
                ("Feuille de tableaux.xlsx", False),
                ("CSV", False),
                ("Parquet", False),
            ],
            [(None, downloads)],
            tid="fichiers",
        ),
    ]
    return H.page(
        "Tableaux nationaux",
        "\n".join(body),
        period=data.period,
        current="index",
        footer=footer,
    )


H_INTRO_SHORT = {
    "recensement": "Où sont les pôles, leur typologie, leurs membres, leurs emplois et budgets.",
    "capitalisation": "Les indicateurs du référentiel : effectifs, totaux, quartiles, évolution.",
    "labellisation": "Critères incontournables et critères à tester remplis par pôle.",
    "profils": "Profil de chaque pôle sur les objectifs principaux, comparé par typologie.",
    "completude": "Statut de chaque pôle attendu, retards, avertissements, erreurs.",
}


def root_index(root: Path, audience: str = INTERNAL) -> None:
    """publications/index.html: the list of published periods (replaced in one step)."""
    periods = sorted((p.name for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=int)
    items = "".join(
        f'<li><a href="{p}/index.html">Tableaux {p}</a></li>' for p in reversed(periods)
    )
    body = (
        "<h1>Tableaux nationaux des PTCE</h1>"
        f'<p class="chapo">Périodes publiées : {len(periods)}.</p><ul>{items}</ul>'
    )
    text = H.page("Périodes publiées", body, period=None, current="", nav=False, audience=audience)
    tmp = root / f".index-{os.getpid()}.html"
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, root / "index.html")
