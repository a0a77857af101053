"""The pole workbook template, generated from the référentiel catalogue with openpyxl.

`build_template` returns an openpyxl Workbook, one sheet after another: the « Lisez-moi » sheet
(`readme`), the hidden code lists and the data validations (`validations`), then the identity,
members, indicators and criteria sheets and the version metadata built here. `save_workbook`
(from `xlsx_writer`) writes it byte-for-byte deterministically, so the same inputs always give
the same file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import Contact, Pole, Referentiel
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.template.readme import write_readme
from ptce_pipeline.template.styles import (
    BOX,
    GROUP_FILL,
    GROUP_FONT,
    INPUT_FILL,
    LOCKED,
    MUTED_FONT,
    PLAIN_FILL,
    REFERENCE_FILL,
    SUBGROUP_FILL,
    UNLOCKED,
    WRAP,
    fit_row,
    header_row,
    print_setup,
    protect,
    sheet_title,
)
from ptce_pipeline.template.validations import (
    field_list,
    input_prompt,
    list_ranges,
    validation_for,
)
from ptce_pipeline.xlsx_writer import FIXED_DATE


@dataclass(frozen=True)
class Reference:
    """The earlier period of a pre-filled workbook and its indicator values (None: not
    declared)."""

    period: int
    values: Mapping[str, float | None] = field(default_factory=dict)


def build_template(
    ref: Referentiel,
    *,
    pole: Pole | None = None,
    period: int | None = None,
    deadline: dt.date | None = None,
    region_of: Mapping[str, str] | None = None,
    contact: Contact | None = None,
    reference: Reference | None = None,
) -> Workbook:
    """The template for `pole` (prefilled identity) and `period`, or a blank one; `contact`:
    the national team's contact details (the home's contact.toml), else the référentiel's;
    `reference`: an earlier period and its indicator values, shown in the locked « Valeur
    AAAA » column of a pre-filled workbook (`template.prefill`)."""
    wb = Workbook()
    readme = wb.active
    readme.title = L.SHEET_README
    write_readme(
        readme, ref, pole, period, deadline, contact, reference.period if reference else None
    )
    ranges = list_ranges(ref, wb)
    _identity_sheet(wb, ref, ranges, pole, period)
    _members_sheet(wb, ref, ranges)
    _indicators_sheet(wb, ref, reference)
    _criteria_sheet(wb, ref, ranges)
    _metadata(wb, ref, pole, period, reference)
    _as_text(wb)
    return wb


def _as_text(wb: Workbook) -> None:
    """Every text the template writes (registry names, référentiel labels and help) is text:
    openpyxl would otherwise store a string that starts with « = » as a live formula, which a
    spreadsheet computes (or refuses) when the pole opens the file. The template holds no
    formula of its own (list validations are not cells)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.data_type = "s"


def _identity_sheet(
    wb: Workbook, ref: Referentiel, ranges: dict[str, str], pole: Pole | None, period: int | None
) -> None:
    ws = wb.create_sheet(L.SHEET_IDENTITY)
    sheet_title(
        ws,
        "Identité du pôle",
        "Remplissez la colonne « Valeur » ; l'aide rappelle ce qui est attendu.",
    )
    header_row(ws, L.HEADER_ROW, L.identity_headers(), [18, 42, 40, 70])
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
        fit_row(ws, row, (fld.help, 70), (fld.label, 42))
        dv = validation_for(
            fld.kind,
            integer=True,
            lo=fld.min,
            hi=fld.max,
            label=fld.label,
            help_text=fld.help,
            list_range=field_list(fld, ranges),
        )
        if fld.kind not in ("text", "email", "siret", "commune", "pole_id") or dv.type == "list":
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
        elif fld.help:
            dv = DataValidation(type=None, allow_blank=True)
            dv.promptTitle, dv.prompt = input_prompt(fld.label, fld.help)
            dv.showInputMessage = True
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
    protect(ws)
    print_setup(ws)


def _members_sheet(wb: Workbook, ref: Referentiel, ranges: dict[str, str]) -> None:
    ws = wb.create_sheet(L.SHEET_MEMBERS)
    sheet_title(
        ws, "Membres du pôle", "Une ligne par organisation membre. * = colonne obligatoire."
    )
    headers = [L.MEMBER_NUMBER, *[f.label for f in ref.members]]
    widths = [6, *[f.width or 18 for f in ref.members]]
    header_row(ws, L.HEADER_ROW, headers, widths)
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
        dv = validation_for(
            kind,
            integer=kind in ("year", "count"),
            lo=lo,
            hi=hi,
            label=fld.label,
            help_text=fld.help,
            list_range=field_list(fld, ranges),
        )
        if kind in ("text", "siret", "commune", "email") and dv.type != "list":
            dv = DataValidation(type=None, allow_blank=True)
            dv.promptTitle, dv.prompt = input_prompt(fld.label, fld.help)
            dv.showInputMessage = True
        dv.add(f"{letter}{L.FIRST_DATA_ROW}:{letter}{L.FIRST_DATA_ROW + L.MEMBER_ROWS - 1}")
        ws.add_data_validation(dv)
        if fld.required:
            ws.cell(row=L.HEADER_ROW, column=col).value = fld.label + " *"
    protect(ws)
    print_setup(ws)


def _indicators_sheet(wb: Workbook, ref: Referentiel, reference: Reference | None) -> None:
    ws = wb.create_sheet(L.SHEET_INDICATORS)
    sheet_title(
        ws,
        "Indicateurs du référentiel",
        "Saisissez la valeur de chaque indicateur pour la période (0 si « aucun ») ; "
        "seuls les indicateurs facultatifs peuvent rester vides ou être notés « NC ».",
    )
    headers = L.indicator_headers(reference.period if reference else None)
    widths = [9, 22, 30, 55, 12, *([14] if reference else []), 16, 45]
    header_row(ws, L.HEADER_ROW, headers, widths)
    row = L.FIRST_DATA_ROW
    value_col = headers.index(L.IND_VALUE) + 1
    comment_col = value_col + 1
    last_col = len(headers)
    for general in ref.general_objectives:
        cell = ws.cell(row=row, column=1, value=f"{general.code} — {general.label}")
        for col in range(1, last_col + 1):
            ws.cell(row=row, column=col).fill = GROUP_FILL
        cell.font = GROUP_FONT
        row += 1
        for main in [m for m in ref.main_objectives if m.parent == general.code]:
            cell = ws.cell(row=row, column=1, value=f"{main.code} — {main.label}")
            cell.font = Font(bold=True, italic=True)
            for col in range(1, last_col + 1):
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
                fit_row(ws, row, (ind.label, 55), (main.label, 30), minimum=20)
                value = ws.cell(row=row, column=value_col)
                value.fill = INPUT_FILL
                value.protection = UNLOCKED
                value.border = BOX
                value.number_format = "0" if ind.integer else "#,##0.##"
                if reference is not None:
                    shown = ws.cell(row=row, column=value_col - 1)
                    shown.value = reference.values.get(ind.code)
                    shown.fill = REFERENCE_FILL
                    shown.protection = LOCKED
                    shown.font = MUTED_FONT
                    shown.number_format = value.number_format
                note = ws.cell(row=row, column=comment_col)
                note.fill = INPUT_FILL
                note.protection = UNLOCKED
                note.alignment = WRAP
                dv = validation_for(
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
    protect(ws)
    print_setup(ws)


def _criteria_sheet(wb: Workbook, ref: Referentiel, ranges: dict[str, str]) -> None:
    ws = wb.create_sheet(L.SHEET_CRITERIA)
    sheet_title(
        ws,
        "Critères de labellisation",
        "Répondez Oui, Non ou En partie, et justifiez en une phrase.",
    )
    header_row(ws, L.HEADER_ROW, L.criteria_headers(), [8, 24, 70, 14, 70])
    answer_range = ranges["reponses_criteres"]
    dv = validation_for(
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
            fit_row(ws, row, (crit.label, 70), minimum=32)
            for col in (4, 5):
                cell = ws.cell(row=row, column=col)
                cell.fill = INPUT_FILL
                cell.protection = UNLOCKED
                cell.border = BOX
                cell.alignment = WRAP
            dv.add(f"D{row}")
            row += 1
    protect(ws)
    print_setup(ws)


def _metadata(
    wb: Workbook,
    ref: Referentiel,
    pole: Pole | None,
    period: int | None,
    reference: Reference | None,
) -> None:
    """The hidden sheet and custom document properties that name the versions (and, in a
    pre-filled workbook, the period of its reference column)."""
    meta = {
        "template_version": TEMPLATE_VERSION,
        "referentiel_version": ref.version,
        "referentiel_sha256": ref.sha256,
        "pole_id": pole.pole_id if pole else "",
        "periode": str(period) if period else "",
    }
    if reference is not None:
        meta["reference_periode"] = str(reference.period)
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
