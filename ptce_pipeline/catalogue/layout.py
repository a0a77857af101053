"""Where things are in the pole workbook: sheet names, header rows, column headers.

Shared by the template writer and the reader, so both always agree. Columns are found by
their (folded) header text and indicators/criteria by their code, never by position alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ptce_pipeline import TEMPLATE_VERSION

SHEET_README = "Lisez-moi"
SHEET_IDENTITY = "Identité"
SHEET_MEMBERS = "Membres"
SHEET_INDICATORS = "Indicateurs"
SHEET_CRITERIA = "Critères"
SHEET_LISTS = "Listes"
SHEET_META = "_ptce"
SHEET_ANOMALIES = "Anomalies"  # added to annotated copies; ignored when read back

DATA_SHEETS = (SHEET_IDENTITY, SHEET_MEMBERS, SHEET_INDICATORS, SHEET_CRITERIA)

HEADER_ROW = 4  # row of the column headers in the data sheets of the template
FIRST_DATA_ROW = HEADER_ROW + 1
MEMBER_ROWS = 300  # room for members in the template (formatted, validated rows)
MAX_MEMBER_ROWS = 2000  # more filled rows than this is refused
HEADER_SEARCH_ROWS = 15  # the reader looks for the header row within these first rows


@dataclass(frozen=True)
class Columns:
    code: str
    value: str
    comment: str | None = None


# Identité: one field a row
ID_CODE = "Code"
ID_LABEL = "Champ"
ID_VALUE = "Valeur"
ID_HELP = "Aide"

# Indicateurs
IND_CODE = "Code"
IND_GENERAL = "Objectif général"
IND_MAIN = "Objectif principal"
IND_LABEL = "Indicateur"
IND_UNIT = "Unité"
IND_VALUE = "Valeur"
IND_COMMENT = "Source ou commentaire"
# The reference column of a pre-filled workbook (template version 2): « Valeur 2025 », the
# value of the earlier declaration, locked, never read as data.
IND_REFERENCE = "Valeur {period}"
IND_REFERENCE_RE = re.compile(r"^valeur (\d{4})$")  # on the folded header key

# Critères
CRIT_CODE = "Code"
CRIT_TYPE = "Type"
CRIT_LABEL = "Critère"
CRIT_ANSWER = "Réponse"
CRIT_JUSTIFICATION = "Justification (une phrase)"

MEMBER_NUMBER = "N°"

# Meta keys in the hidden sheet and the custom document properties
# (`reference_periode`: only in a pre-filled workbook, the period of its reference column)
META_KEYS = (
    "template_version",
    "referentiel_version",
    "referentiel_sha256",
    "pole_id",
    "periode",
    "reference_periode",
)


@dataclass(frozen=True)
class LayoutMap:
    """How to read the layout of an older template version: what was renamed since.

    `sheets`: old sheet name → current name; `headers`: current sheet name → {old header →
    current header}; `codes`: old identity key, indicator or criterion code → current one.
    Everything not named is read as in the current layout (columns are found by header text
    and rows by code anyway, so moved columns and rows need no entry).
    """

    sheets: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    codes: Mapping[str, str] = field(default_factory=dict)


# Layout versions the reader knows. When a later template renames a sheet, a header or a code,
# bump TEMPLATE_VERSION and declare here how to read the older layout; a file from a version
# not listed is refused with `unknown-template-version`.
# Version 2 added the reference column of pre-filled workbooks (`IND_REFERENCE`), known to the
# reader of every version; version 1 has the same sheets, headers and codes.
TEMPLATE_LAYOUTS: dict[str, LayoutMap | Mapping[str, Mapping[str, str]]] = {
    "1": LayoutMap(),
    TEMPLATE_VERSION: LayoutMap(),
}


def layout_for(version: str | None) -> LayoutMap | None:
    """The layout of a template version (None: unknown). A plain mapping declares renamed
    headers only: {sheet: {old header: current header}}."""
    layout = TEMPLATE_LAYOUTS.get(version or TEMPLATE_VERSION)
    if layout is None or isinstance(layout, LayoutMap):
        return layout
    return LayoutMap(headers=layout)


def identity_headers() -> list[str]:
    return [ID_CODE, ID_LABEL, ID_VALUE, ID_HELP]


def indicator_headers(reference_period: int | None = None) -> list[str]:
    """The Indicateurs sheet's headers; with the reference column of a pre-filled workbook
    just before « Valeur » when `reference_period` is given."""
    reference = [IND_REFERENCE.format(period=reference_period)] if reference_period else []
    return [
        IND_CODE,
        IND_GENERAL,
        IND_MAIN,
        IND_LABEL,
        IND_UNIT,
        *reference,
        IND_VALUE,
        IND_COMMENT,
    ]


def criteria_headers() -> list[str]:
    return [CRIT_CODE, CRIT_TYPE, CRIT_LABEL, CRIT_ANSWER, CRIT_JUSTIFICATION]
