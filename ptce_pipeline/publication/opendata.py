"""The files of the open-data release as data.gouv.fr expects them: CSV (UTF-8 without BOM,
comma separator, dot decimal, one header row) each with its Table Schema (`.schema.json`,
frictionless; masked cells valid through `missingValues`), Parquet, a DCAT-AP catalogue
(`catalogue.jsonld`, its context inline so that it parses offline) and a short `LISEZMOI.md`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

from . import fmt as F
from .exports import _cell_value, write_parquet
from .tables import NUMERIC, Col, Table

LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
LICENCE_ID = "etalab-2.0"
PUBLISHER = "Équipe nationale d'animation des PTCE"
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".json": "application/schema+json",
    ".parquet": "application/vnd.apache.parquet",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
    ".md": "text/markdown",
}
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
}
NUMERIC_KINDS = (*NUMERIC, "row", "evol")


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "oui" if value else "non"
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)  # full precision


def write_csv(path: Path, table: Table) -> None:
    cols = table.export_cols
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=",", lineterminator="\r\n")
    writer.writerow([c.key for c in cols])
    for i in range(len(table.frame)):
        writer.writerow([_plain(_cell_value(table, c, i)) for c in cols])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _field(table: Table, col: Col) -> dict:
    kind = col.kind
    field: dict = {"name": col.key, "title": col.header}
    if kind in NUMERIC_KINDS:
        field["type"] = "number"
        if col.secret:
            field["description"] = f"« {F.SECRET} » : valeur masquée (secret statistique)."
    elif kind == "date":
        field["type"] = "date"
    else:
        field["type"] = "string"
    return field


def schema(table: Table) -> dict:
    return {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "title": table.title,
        "description": table.subtitle,
        "fields": [_field(table, c) for c in table.export_cols],
        "missingValues": ["", F.SECRET],
    }


def write_data_files(folder: Path, tables: list[Table]) -> None:
    out = folder / "donnees"
    out.mkdir(exist_ok=True)
    for table in tables:
        write_csv(out / f"{table.key}.csv", table)
        (out / f"{table.key}.schema.json").write_text(
            json.dumps(schema(table), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        write_parquet(out / f"{table.key}.parquet", table)


def catalogue(
    folder: Path, tables: list[Table], period: int, generated: dt.datetime, provisional: bool
) -> dict:
    """DCAT-AP: the release as one dataset, every file of it a distribution with its checksum."""
    titles = {f"donnees/{t.key}.{ext}": t.title for t in tables for ext in ("csv", "parquet")}
    titles.update({f"donnees/{t.key}.schema.json": f"Schéma : {t.title}" for t in tables})
    distributions = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in ("catalogue.jsonld", "manifest.json"):
            continue
        data = path.read_bytes()
        distributions.append(
            {
                "@type": "dcat:Distribution",
                "dct:identifier": rel,
                "dct:title": titles.get(rel, rel),
                "dcat:downloadURL": {"@id": rel},
                "dcat:mediaType": {
                    "@id": "https://www.iana.org/assignments/media-types/"
                    + MEDIA_TYPES.get(path.suffix, "application/octet-stream")
                },
                "dcat:byteSize": {"@value": str(len(data)), "@type": "xsd:nonNegativeInteger"},
                "dct:license": {"@id": LICENCE},
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                    "spdx:checksumValue": {
                        "@value": hashlib.sha256(data).hexdigest(),
                        "@type": "xsd:hexBinary",
                    },
                },
            }
        )
    publisher = {"@type": "foaf:Agent", "foaf:name": PUBLISHER}
    state = "chiffres provisoires (campagne ouverte)" if provisional else "chiffres définitifs"
    dataset = {
        "@id": f"#ptce-{period}",
        "@type": "dcat:Dataset",
        "dct:title": f"Suivi national des PTCE — données ouvertes {period}",
        "dct:description": (
            f"Agrégats nationaux et territoriaux des déclarations annuelles {period} des pôles "
            "territoriaux de coopération économique, sous secret statistique, et annuaire des "
            f"pôles (champs publics) ; {state}."
        ),
        "dct:publisher": publisher,
        "dct:license": {"@id": LICENCE},
        "dct:rights": LICENCE_ID,
        "dct:issued": {"@value": generated.date().isoformat(), "@type": "xsd:date"},
        "dct:temporal": {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": {"@value": f"{period}-01-01", "@type": "xsd:date"},
            "dcat:endDate": {"@value": f"{period}-12-31", "@type": "xsd:date"},
        },
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        "adms:status": "provisoire" if provisional else "définitif",
        "dcat:distribution": distributions,
    }
    return {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "dct:title": "Suivi national des PTCE — données ouvertes",
        "dct:description": "Publications ouvertes du suivi national des PTCE.",
        "dct:publisher": publisher,
        "dct:license": {"@id": LICENCE},
        "dcat:dataset": [dataset],
    }


def readme(tables: list[Table], period: int, provisional: bool) -> str:
    lines = [
        f"# Suivi national des PTCE — données ouvertes {period}",
        "",
        "Public : tout public. Licence : Licence Ouverte / Open Licence version 2.0 (etalab-2.0).",
        "",
        (
            "**Chiffres provisoires** : la campagne est ouverte, les chiffres évolueront avec les "
            "déclarations à venir."
            if provisional
            else "Chiffres définitifs : la campagne est close."
        ),
        "",
        "## Contenu",
        "",
        "Chaque tableau est fourni en CSV (UTF-8, séparateur virgule, point décimal, une ligne "
        "d'en-tête) avec son schéma (`.schema.json`, Table Schema), en Parquet, et dans "
        "`tableaux.xlsx`. `catalogue.jsonld` décrit le jeu de données (DCAT-AP) avec l'empreinte "
        "SHA-256 de chaque fichier.",
        "",
        *[f"- `donnees/{t.key}.csv` : {t.title}" for t in tables],
        "",
        "## Secret statistique",
        "",
        f"Les valeurs « {F.SECRET} » sont masquées : agrégat portant sur moins de "
        f"{F.SECRET_MIN} pôles, ou dont un pôle représente plus de 85 % ; d'autres cases sont "
        "masquées pour qu'aucune valeur masquée ne puisse être retrouvée par différence. "
        "Quartiles et médianes ne sont publiés que sur au moins 10 pôles. Seuls les champs "
        "que le référentiel déclare publics sont publiés pôle par pôle.",
        "",
    ]
    return "\n".join(lines)
