"""The open-data release of a period (`publications/public/<period>/`): its pages, data files,
workbook, DCAT catalogue and LISEZMOI, written into a folder that `site` swaps into place.
Nothing in it links to the internal release."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ptce_pipeline.catalogue.referentiel import Referentiel

from . import fmt as F
from . import html as H
from . import opendata
from .audience import AUDIENCES, PUBLIC, PUBLIC_SECTIONS
from .data import PeriodData
from .exports import write_xlsx
from .pages import H_INTRO_SHORT, section_page
from .render import render_html
from .secret import QUANTILE_MIN
from .tables import Table

e = H.e


def public_notes(notes: list[str]) -> list[str]:
    out = []
    for note in notes:
        if note.startswith("Secret statistique"):
            note = (
                f"Secret statistique : un agrégat d'un champ à diffusion restreinte portant sur "
                f"moins de {F.SECRET_MIN} pôles, ou dont un pôle représente plus de 85 %, est "
                f"masqué (« {F.SECRET} »), ainsi que les cases qui permettraient de le retrouver "
                f"par différence ; quartiles et médianes seulement sur au moins {QUANTILE_MIN} "
                "pôles. Seuls les champs publics sont publiés pôle par pôle."
            )
        out.append(note)
    out.append(f"Public : {AUDIENCES[PUBLIC]}.")
    return out


def provisional(data: PeriodData) -> bool:
    campaign = data.campaign()
    return not (campaign and campaign.get("closed"))


def _index(ref: Referentiel, data: PeriodData, tables: list[Table], footer: str) -> str:
    banner = (
        f'<p class="bandeau-info provisoire">Campagne {data.period} ouverte : chiffres '
        "provisoires, susceptibles d'évoluer avec les déclarations à venir.</p>"
        if provisional(data)
        else f'<p class="bandeau-info">Campagne {data.period} close : chiffres définitifs.</p>'
    )
    cards = []
    for stem, label in H.SECTIONS[1:]:
        if stem not in PUBLIC_SECTIONS:
            continue
        own = [t for t in tables if t.page == stem and t.in_html]
        items = "".join(f'<li><a href="{stem}.html#h-{t.key}">{e(t.title)}</a></li>' for t in own)
        cards.append(
            f'<li><h3><a href="{stem}.html">{e(label)}</a></h3>'
            f"<p>{e(H_INTRO_SHORT[stem])}</p><ul>{items}</ul></li>"
        )
    downloads = [
        [
            H.Cell(t.title),
            H.Cell("CSV", href=f"donnees/{t.key}.csv"),
            H.Cell("Schéma", href=f"donnees/{t.key}.schema.json"),
            H.Cell("Parquet", href=f"donnees/{t.key}.parquet"),
        ]
        for t in tables
    ]
    directory = [t for t in tables if t.key == "annuaire_poles"]
    body = [
        f"<h1>Données ouvertes des PTCE — {data.period}</h1>",
        '<p class="chapo">Agrégats nationaux et territoriaux des déclarations annuelles des pôles '
        "territoriaux de coopération économique, sous secret statistique, et annuaire des "
        "pôles.</p>",
        banner,
        '<h2 id="tableaux">Tableaux</h2>',
        f'<ul class="cartes">{"".join(cards)}</ul>',
        *(f'<h2 id="h-{t.key}">{e(t.title)}</h2>{render_html(t)}' for t in directory),
        '<h2 id="telechargements">Télécharger les données</h2>',
        '<p><a href="tableaux.xlsx">tableaux.xlsx</a>, et pour chaque tableau un fichier CSV '
        "(UTF-8, séparateur virgule, point décimal), son schéma (Table Schema) et un fichier "
        'Parquet. <a href="catalogue.jsonld">catalogue.jsonld</a> (DCAT-AP) et '
        '<a href="LISEZMOI.md">LISEZMOI.md</a> décrivent le jeu de données ; licence : Licence '
        "Ouverte / etalab-2.0.</p>",
        H.simple_table(
            "Fichiers de données, tableau par tableau",
            [("Tableau", False), ("CSV", False), ("Schéma", False), ("Parquet", False)],
            [(None, downloads)],
            tid="fichiers",
        ),
    ]
    return H.page(
        "Données ouvertes",
        "\n".join(body),
        period=data.period,
        current="index",
        footer=footer,
        audience=PUBLIC,
    )


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def write_public(
    folder: Path,
    ref: Referentiel,
    data: PeriodData,
    tables: list[Table],
    notes: list[str],
    generated: dt.datetime,
) -> None:
    notes = public_notes(notes)
    footer = H.notes_list(notes)
    for stem in PUBLIC_SECTIONS[1:]:
        own = [t for t in tables if t.page == stem and t.in_html]
        _write(folder / f"{stem}.html", section_page(stem, own, data, footer, PUBLIC))
    _write(folder / "index.html", _index(ref, data, tables, footer))
    opendata.write_data_files(folder, tables)
    write_xlsx(
        folder / "tableaux.xlsx",
        [t for t in tables if t.in_xlsx],
        notes,
        data.period,
        generated,
        mark=f"Public : {AUDIENCES[PUBLIC]}",
    )
    _write(folder / "LISEZMOI.md", opendata.readme(tables, data.period, provisional(data)))
    dcat = opendata.catalogue(folder, tables, data.period, generated, provisional(data))
    _write(folder / "catalogue.jsonld", json.dumps(dcat, ensure_ascii=False, indent=2) + "\n")
