"""The pole workbook template, generated from the référentiel catalogue with openpyxl.

`build_template` returns an openpyxl Workbook; `save_workbook` writes it byte-for-byte
deterministically (fixed zip timestamps and document dates), so the same inputs always give
the same file. `fill_workbook` types values into a template the way a pole would (used by the
demo, the tests and the benchmarks).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue.referentiel import Field, Referentiel
from ptce_pipeline.catalogue.registry import Pole
from ptce_pipeline.xlsx_writer import FIXED_DATE, save_workbook, workbook_bytes  # noqa: F401 (re-exported)

TITLE_FONT = Font(bold=True, size=14, color="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
GROUP_FONT = Font(bold=True, color="1F3864")
GROUP_FILL = PatternFill("solid", fgColor="D9E2F3")
SUBGROUP_FILL = PatternFill("solid", fgColor="EEF2F9")
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
THIN = Side(style="thin", color="B4B4B4")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)
MUTED_FONT = Font(color="7F7F7F")
PLAIN_FILL = PatternFill("solid", fgColor="FFFFFF")


@dataclass
class FilledData:
    """What a pole types into the workbook (used by the demo, tests and benchmarks)."""

    identity: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    indicators: dict[str, Any] = field(default_factory=dict)  # code → value
    indicator_comments: dict[str, str] = field(default_factory=dict)
    criteria: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # code → (answer, why)


def _prompt(title: str, text: str) -> tuple[str, str]:
    return title[:32], text[:250]


def _list_ranges(ref: Referentiel, wb: Workbook) -> dict[str, str]:
    """A hidden sheet holds every code list; dropdowns refer to named ranges on it."""
    ws = wb.create_sheet(L.SHEET_LISTS)
    ranges: dict[str, str] = {}
    lists = dict(ref.lists)
    geo = ref.geography
    columns: list[tuple[str, str, list[str]]] = [
        (name, cl.label, cl.labels) for name, cl in lists.items()
    ]
    columns.append(
        (
            "regions",
            "Région",
            [geo.regions[c] for c in sorted(geo.regions, key=lambda c: geo.regions[c])],
        )
    )
    columns.append(("departements", "Département", sorted(geo.departements)))
    for idx, (name, label, labels) in enumerate(columns, start=1):
        letter = get_column_letter(idx)
        ws.cell(row=1, column=idx, value=label).font = Font(bold=True)
        for row, text in enumerate(labels, start=2):
            ws.cell(row=row, column=idx, value=text)
        ref_text = f"{quote_sheetname(L.SHEET_LISTS)}!${letter}$2:${letter}${len(labels) + 1}"
        range_name = f"liste_{name}"
        wb.defined_names[range_name] = DefinedName(range_name, attr_text=ref_text)
        ranges[name] = range_name
        ws.column_dimensions[letter].width = max(12, min(45, max(len(t) for t in labels) + 2))
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ranges


def _fit(ws, row: int, *texts: tuple[str | None, float], minimum: float = 15.0) -> None:
    """Row height for wrapped text: spreadsheets do not grow rows written by openpyxl."""
    lines = 1
    for text, width in texts:
        if text:
            per_line = max(8, int(width * 1.15))
            lines = max(
                lines, sum(-(-max(1, len(part)) // per_line) for part in str(text).split("\n"))
            )
    ws.row_dimensions[row].height = max(minimum, 15.0 * lines + 2)


def _header(ws, row: int, headers: list[str], widths: list[int]) -> None:
    for col, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = BOX
        ws.column_dimensions[get_column_letter(col)].width = width
    _fit(ws, row, *zip(headers, widths, strict=True))
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    ws.print_title_rows = f"{row}:{row}"


def _title(ws, title: str, subtitle: str) -> None:
    ws["A1"] = title
    ws["A1"].font = TITLE_FONT
    ws["A2"] = subtitle
    ws["A2"].alignment = Alignment(wrap_text=False)
    ws["A2"].font = Font(italic=True, color="595959")


def _print_setup(ws, landscape: bool = True) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "&A — page &P / &N"


def _protect(ws) -> None:
    ws.protection.sheet = True  # no password: protection against slips, not a lock
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.insertRows = False
    ws.protection.deleteRows = True
    ws.protection.sort = True
    ws.protection.autoFilter = True


def _validation_for(
    fld_kind: str, *, integer: bool, lo, hi, label: str, help_text: str, list_range: str | None
) -> DataValidation:
    if list_range:
        dv = DataValidation(type="list", formula1=f"={list_range}", allow_blank=True)
        dv.error = f"Choisissez une valeur de la liste « {label} »."
    elif fld_kind in ("year", "period"):
        dv = DataValidation(
            type="whole", operator="between", formula1="1900", formula2="2100", allow_blank=True
        )
        dv.error = "Saisissez une année à 4 chiffres."
    elif fld_kind == "date":
        dv = DataValidation(
            type="date", operator="between", formula1="36526", formula2="73051", allow_blank=True
        )
        dv.error = "Saisissez une date (JJ/MM/AAAA)."
    else:
        kind = "whole" if integer else "decimal"
        lo = 0 if lo is None else lo
        if hi is None:
            dv = DataValidation(
                type=kind, operator="greaterThanOrEqual", formula1=_num(lo), allow_blank=True
            )
            dv.error = (
                f"Saisissez un nombre {'entier ' if integer else ''}supérieur ou égal à {_num(lo)}."
            )
        else:
            dv = DataValidation(
                type=kind,
                operator="between",
                formula1=_num(lo),
                formula2=_num(hi),
                allow_blank=True,
            )
            dv.error = (
                f"Saisissez un nombre {'entier ' if integer else ''}entre {_num(lo)} et {_num(hi)}."
            )
    dv.errorTitle = "Valeur refusée"
    dv.errorStyle = "warning"  # warn but let the pole keep the value: the pipeline decides
    dv.promptTitle, dv.prompt = _prompt(label, help_text)
    dv.showInputMessage = True
    dv.showErrorMessage = True
    return dv


def _num(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _field_list(fld: Field, ranges: dict[str, str]) -> str | None:
    if fld.kind == "code" and fld.liste:
        return ranges.get(fld.liste)
    if fld.kind == "region":
        return ranges.get("regions")
    if fld.kind == "departement":
        return ranges.get("departements")
    return None


def _readme(
    ws, ref: Referentiel, pole: Pole | None, period: int | None, deadline: dt.date | None
) -> None:
    ws.column_dimensions["A"].width = 76
    year = period or "de l'année écoulée"
    lines: list[tuple[str, Font | None]] = [
        ("Suivi des pôles territoriaux de coopération économique (PTCE)", TITLE_FONT),
        (f"Classeur de suivi annuel — période {year}", Font(bold=True, size=12)),
        ("", None),
        ("Ce qu'il faut remplir", GROUP_FONT),
        (
            "1. Identité : les informations sur le pôle et sa structure porteuse (colonne « Valeur »).",
            None,
        ),
        (
            "2. Membres : une ligne par organisation membre (nom, SIRET, catégorie, forme juridique, commune, "
            "année d'adhésion, ETP). Au moins trois personnes morales, dont une entreprise de l'ESS et une "
            "entreprise hors ESS.",
            None,
        ),
        (
            f"3. Indicateurs : les {len(ref.indicators)} indicateurs du référentiel sont pré-imprimés ; saisissez la "
            "valeur de chacun dans la colonne « Valeur » et, si besoin, sa source ou un commentaire.",
            None,
        ),
        (
            f"4. Critères : répondez Oui, Non ou En partie aux {len(ref.criteria)} critères de labellisation et "
            "justifiez chaque réponse en une phrase.",
            None,
        ),
        (
            "Les cellules à remplir sont sur fond jaune pâle ; les autres sont protégées (sans mot de passe) "
            "pour éviter les modifications involontaires. Ne renommez pas les feuilles, ne supprimez pas les "
            "lignes pré-imprimées et ne modifiez pas les codes.",
            None,
        ),
        ("", None),
        ("Comment les valeurs sont contrôlées", GROUP_FONT),
        (
            "Les nombres peuvent être saisis avec une virgule décimale (12,5) et des espaces entre les milliers "
            "(1 250 000). Les pourcentages se saisissent de 0 à 100. Tous les indicateurs sont obligatoires sauf "
            "ceux marqués « (facultatif) » : saisissez 0 si la réponse est « aucun » ; seul un indicateur "
            "facultatif peut rester vide ou être noté « NC » (non connu).",
            None,
        ),
        (
            "Chaque valeur est vérifiée : type, bornes, listes, cohérence entre indicateurs, SIRET, codes INSEE. "
            "Une erreur empêche l'intégration du classeur ; un avertissement ne l'empêche pas mais mérite "
            "une vérification.",
            None,
        ),
        ("", None),
        ("Après le dépôt", GROUP_FONT),
        (
            "Déposez le classeur (.xlsx ou .ods) dans le dossier de votre pôle. Un accusé de réception et, "
            "s'il y a des anomalies, une copie annotée de votre classeur (cellules en rouge ou orange, "
            "feuille « Anomalies ») sont déposés dans le sous-dossier « retours ». Corrigez cette copie "
            "et déposez-la de nouveau : le dernier classeur accepté remplace le précédent.",
            None,
        ),
        ("", None),
        ("Date limite", GROUP_FONT),
        (
            f"À déposer au plus tard le {deadline.strftime('%d/%m/%Y')}."
            if deadline
            else "À déposer au plus tard le 31 mars de l'année qui suit la période.",
            None,
        ),
        ("", None),
        ("Contact", GROUP_FONT),
        (f"Pour toute question : {ref.contact}.", None),
        ("", None),
        ("Versions", GROUP_FONT),
        (
            f"Modèle de classeur : version {TEMPLATE_VERSION}. Référentiel : {ref.version} "
            f"(empreinte {ref.short_sha}).",
            None,
        ),
    ]
    if ref.provisional:
        lines.append((ref.note or "Référentiel provisoire.", Font(italic=True, color="C00000")))
    if pole is not None:
        lines.insert(2, (f"Pôle : {pole.nom} ({pole.pole_id})", Font(bold=True)))
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font:
            cell.font = font
        _fit(ws, row, (text, 68 if font is None or not font.sz or font.sz <= 11 else 56))
    ws.protection.sheet = True
    _print_setup(ws, landscape=False)


def build_template(
    ref: Referentiel,
    *,
    pole: Pole | None = None,
    period: int | None = None,
    deadline: dt.date | None = None,
    region_of: Mapping[str, str] | None = None,
) -> Workbook:
    wb = Workbook()
    readme = wb.active
    readme.title = L.SHEET_README
    _readme(readme, ref, pole, period, deadline)
    ranges = _list_ranges(ref, wb)

    # --- Identité -----------------------------------------------------------------------------
    ws = wb.create_sheet(L.SHEET_IDENTITY)
    _title(
        ws,
        "Identité du pôle",
        "Remplissez la colonne « Valeur » ; l'aide rappelle ce qui est attendu.",
    )
    _header(ws, L.HEADER_ROW, L.identity_headers(), [18, 42, 40, 70])
    prefill: dict[str, Any] = {}
    if pole is not None:
        prefill["pole_id"] = pole.pole_id
        prefill["nom"] = pole.nom
        prefill["departement"] = pole.departement
        geo = ref.geography
        if pole.departement in geo.departements:
            prefill["region"] = geo.regions[geo.departements[pole.departement][1]]
    if period is not None:
        prefill["periode"] = period
    for row, fld in enumerate(ref.identity, start=L.FIRST_DATA_ROW):
        ws.cell(row=row, column=1, value=fld.key).font = Font(color="7F7F7F")
        label = ws.cell(row=row, column=2, value=fld.label + (" *" if fld.required else ""))
        label.font = Font(bold=fld.required)
        value = ws.cell(row=row, column=3, value=prefill.get(fld.key))
        value.fill = INPUT_FILL
        value.protection = UNLOCKED
        value.border = BOX
        if fld.kind in ("siret", "commune", "departement", "pole_id"):
            value.number_format = "@"
        if fld.kind == "date":
            value.number_format = "DD/MM/YYYY"
        ws.cell(row=row, column=4, value=fld.help).alignment = WRAP
        _fit(ws, row, (fld.help, 70), (fld.label, 42))
        dv = _validation_for(
            fld.kind,
            integer=True,
            lo=fld.min,
            hi=fld.max,
            label=fld.label,
            help_text=fld.help,
            list_range=_field_list(fld, ranges),
        )
        if fld.kind not in ("text", "email", "siret", "commune", "pole_id") or dv.type == "list":
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
        elif fld.help:
            dv = DataValidation(type=None, allow_blank=True)
            dv.promptTitle, dv.prompt = _prompt(fld.label, fld.help)
            dv.showInputMessage = True
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
    _protect(ws)
    _print_setup(ws)

    # --- Membres ------------------------------------------------------------------------------
    ws = wb.create_sheet(L.SHEET_MEMBERS)
    _title(ws, "Membres du pôle", "Une ligne par organisation membre. * = colonne obligatoire.")
    headers = [L.MEMBER_NUMBER, *[f.label for f in ref.members]]
    widths = [6, *[f.width or 18 for f in ref.members]]
    _header(ws, L.HEADER_ROW, headers, widths)
    # Input columns are styled at column level (fill, unlocked, text format for codes): a new
    # cell typed anywhere in the column gets the style, and the file holds no empty styled
    # cells (300 rows x 7 columns of them cost every reader time on every workbook).
    for col, fld in enumerate(ref.members, start=2):
        dim = ws.column_dimensions[get_column_letter(col)]
        dim.fill = INPUT_FILL
        dim.protection = UNLOCKED
        if fld.kind in ("siret", "commune"):
            dim.number_format = "@"
        for row in range(1, L.HEADER_ROW):  # title rows keep a plain, locked look
            ws.cell(row=row, column=col).fill = PLAIN_FILL
    for offset in range(L.MEMBER_ROWS):
        ws.cell(row=L.FIRST_DATA_ROW + offset, column=1, value=offset + 1).font = MUTED_FONT
    for col, fld in enumerate(ref.members, start=2):
        letter = get_column_letter(col)
        lo = fld.min
        hi = fld.max
        kind = fld.kind
        dv = _validation_for(
            kind,
            integer=kind in ("year", "count"),
            lo=lo,
            hi=hi,
            label=fld.label,
            help_text=fld.help,
            list_range=_field_list(fld, ranges),
        )
        if kind in ("text", "siret", "commune", "email") and dv.type != "list":
            dv = DataValidation(type=None, allow_blank=True)
            dv.promptTitle, dv.prompt = _prompt(fld.label, fld.help)
            dv.showInputMessage = True
        dv.add(f"{letter}{L.FIRST_DATA_ROW}:{letter}{L.FIRST_DATA_ROW + L.MEMBER_ROWS - 1}")
        ws.add_data_validation(dv)
        if fld.required:
            ws.cell(row=L.HEADER_ROW, column=col).value = fld.label + " *"
    _protect(ws)
    _print_setup(ws)

    # --- Indicateurs --------------------------------------------------------------------------
    ws = wb.create_sheet(L.SHEET_INDICATORS)
    _title(
        ws,
        "Indicateurs du référentiel",
        "Saisissez la valeur de chaque indicateur pour la période (0 si « aucun ») ; "
        "seuls les indicateurs facultatifs peuvent rester vides ou être notés « NC ».",
    )
    _header(ws, L.HEADER_ROW, L.indicator_headers(), [9, 22, 30, 55, 12, 16, 45])
    row = L.FIRST_DATA_ROW
    value_col = L.indicator_headers().index(L.IND_VALUE) + 1
    comment_col = value_col + 1
    for general in ref.general_objectives:
        cell = ws.cell(row=row, column=1, value=f"{general.code} — {general.label}")
        for col in range(1, 8):
            ws.cell(row=row, column=col).fill = GROUP_FILL
        cell.font = GROUP_FONT
        row += 1
        for main in [m for m in ref.main_objectives if m.parent == general.code]:
            cell = ws.cell(row=row, column=1, value=f"{main.code} — {main.label}")
            cell.font = Font(bold=True, italic=True)
            for col in range(1, 8):
                ws.cell(row=row, column=col).fill = SUBGROUP_FILL
            row += 1
            for ind in [i for i in ref.indicators if i.objective == main.code]:
                ws.cell(row=row, column=1, value=ind.code).font = Font(bold=True)
                ws.cell(row=row, column=2, value=general.label)
                ws.cell(row=row, column=3, value=main.label)
                ws.cell(
                    row=row, column=4, value=ind.label + ("" if ind.required else " (facultatif)")
                ).alignment = WRAP
                ws.cell(row=row, column=5, value=ind.unit)
                _fit(ws, row, (ind.label, 55), (main.label, 30), minimum=20)
                value = ws.cell(row=row, column=value_col)
                value.fill = INPUT_FILL
                value.protection = UNLOCKED
                value.border = BOX
                value.number_format = "0" if ind.integer else "#,##0.##"
                note = ws.cell(row=row, column=comment_col)
                note.fill = INPUT_FILL
                note.protection = UNLOCKED
                note.alignment = WRAP
                dv = _validation_for(
                    ind.kind,
                    integer=ind.integer,
                    lo=ind.min,
                    hi=ind.max,
                    label=f"{ind.code} {ind.label}",
                    help_text=ind.help,
                    list_range=None,
                )
                dv.add(value.coordinate)
                ws.add_data_validation(dv)
                row += 1
    _protect(ws)
    _print_setup(ws)

    # --- Critères -----------------------------------------------------------------------------
    ws = wb.create_sheet(L.SHEET_CRITERIA)
    _title(
        ws,
        "Critères de labellisation",
        "Répondez Oui, Non ou En partie, et justifiez en une phrase.",
    )
    _header(ws, L.HEADER_ROW, L.criteria_headers(), [8, 24, 70, 14, 70])
    answer_range = ranges["reponses_criteres"]
    dv = _validation_for(
        "code",
        integer=False,
        lo=None,
        hi=None,
        label="Réponse",
        help_text="Oui, Non ou En partie.",
        list_range=answer_range,
    )
    ws.add_data_validation(dv)
    row = L.FIRST_DATA_ROW
    for ctype, (_label, plural) in ref.criterion_types.items():
        cell = ws.cell(row=row, column=1, value=plural)
        cell.font = GROUP_FONT
        for col in range(1, 6):
            ws.cell(row=row, column=col).fill = GROUP_FILL
        row += 1
        for crit in ref.criteria_of(ctype):
            ws.cell(row=row, column=1, value=crit.code).font = Font(bold=True)
            ws.cell(row=row, column=1).alignment = Alignment(vertical="top")
            ws.cell(row=row, column=2, value=ref.criterion_types[ctype][0]).alignment = Alignment(
                vertical="top"
            )
            ws.cell(row=row, column=3, value=crit.label).alignment = WRAP
            _fit(ws, row, (crit.label, 70), minimum=32)
            for col in (4, 5):
                cell = ws.cell(row=row, column=col)
                cell.fill = INPUT_FILL
                cell.protection = UNLOCKED
                cell.border = BOX
                cell.alignment = WRAP
            dv.add(f"D{row}")
            row += 1
    _protect(ws)
    _print_setup(ws)

    # --- metadata: hidden sheet and custom document properties --------------------------------
    meta = {
        "template_version": TEMPLATE_VERSION,
        "referentiel_version": ref.version,
        "referentiel_sha256": ref.sha256,
        "pole_id": pole.pole_id if pole else "",
        "periode": str(period) if period else "",
    }
    lists = wb[L.SHEET_LISTS]
    wb.move_sheet(lists, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(L.SHEET_LISTS))
    ws = wb.create_sheet(L.SHEET_META)
    for row, (key, value) in enumerate(meta.items(), start=1):
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=value)
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    for key, value in meta.items():
        wb.custom_doc_props.append(StringProperty(name=f"ptce_{key}", value=value or "-"))
    wb.properties.creator = "ptce-pipeline"
    wb.properties.title = "Classeur de suivi PTCE"
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    wb.properties.lastModifiedBy = "ptce-pipeline"
    wb.active = wb.sheetnames.index(L.SHEET_README)
    wb.calculation.fullCalcOnLoad = False
    return wb


# --------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------
def _find_row(ws, column: int, key: str, start: int = 1) -> int | None:
    for row in range(start, ws.max_row + 1):
        if ws.cell(row=row, column=column).value == key:
            return row
    return None


def fill_workbook(wb: Workbook, ref: Referentiel, data: FilledData) -> Workbook:
    """Type values into the template's input cells, as a pole would."""
    ws = wb[L.SHEET_IDENTITY]
    for key, value in data.identity.items():
        row = _find_row(ws, 1, key, L.FIRST_DATA_ROW)
        if row is None:
            raise KeyError(f"identity field {key!r} not in template")
        ws.cell(row=row, column=3, value=value)
    ws = wb[L.SHEET_MEMBERS]
    keys = [f.key for f in ref.members]
    for offset, member in enumerate(data.members):
        row = L.FIRST_DATA_ROW + offset
        for key, value in member.items():
            col = keys.index(key) + 2
            cell = ws.cell(row=row, column=col, value=value)
            # as a spreadsheet does, a new cell takes its column's style
            cell._style = copy.copy(ws.column_dimensions[get_column_letter(col)]._style)
    ws = wb[L.SHEET_INDICATORS]
    value_col = L.indicator_headers().index(L.IND_VALUE) + 1
    for code, value in data.indicators.items():
        row = _find_row(ws, 1, code, L.FIRST_DATA_ROW)
        if row is None:
            raise KeyError(f"indicator {code!r} not in template")
        ws.cell(row=row, column=value_col, value=value)
        if code in data.indicator_comments:
            ws.cell(row=row, column=value_col + 1, value=data.indicator_comments[code])
    ws = wb[L.SHEET_CRITERIA]
    for code, (answer, why) in data.criteria.items():
        row = _find_row(ws, 1, code, L.FIRST_DATA_ROW)
        if row is None:
            raise KeyError(f"criterion {code!r} not in template")
        ws.cell(row=row, column=4, value=answer)
        ws.cell(row=row, column=5, value=why)
    return wb


def add_comment(cell, text: str) -> None:
    cell.comment = Comment(text, "ptce-pipeline", width=300, height=120)
