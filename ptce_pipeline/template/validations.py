"""What helps and checks a pole's typing in the template: the hidden sheet of code lists with
its named ranges, and one data validation per input cell (dropdown, bounds, input prompt). The
validations only warn: the pipeline decides.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ptce_pipeline.catalogue import Field, Referentiel
from ptce_pipeline.catalogue import layout as L


def input_prompt(title: str, text: str) -> tuple[str, str]:
    return title[:32], text[:250]


def list_ranges(ref: Referentiel, wb: Workbook) -> dict[str, str]:
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


def validation_for(
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
    dv.promptTitle, dv.prompt = input_prompt(label, help_text)
    dv.showInputMessage = True
    dv.showErrorMessage = True
    return dv


def _num(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def field_list(fld: Field, ranges: dict[str, str]) -> str | None:
    if fld.kind == "code" and fld.liste:
        return ranges.get(fld.liste)
    if fld.kind == "region":
        return ranges.get("regions")
    if fld.kind == "departement":
        return ranges.get("departements")
    return None
