"""pandera failures → issues: a schema is run lazily on a batch frame and each failure
(check name = issue code, column, index = position in the batch) becomes an issue worded from
the catalogue, with the field's label, bounds, allowed values or a hint on what to type.
"""

from __future__ import annotations

import warnings
from typing import Any

from ptce_pipeline.catalogue import Field, Indicator, Referentiel, advice
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.content import display_number
from ptce_pipeline.validation.model import Context
from ptce_pipeline.validation.schemas import year_bounds


def failures(schema, frame) -> list[tuple[str, Any, Any]]:
    """→ [(check name, column, index)] of every failure — empty when the frame is valid."""
    import pandera.pandas as pa

    if frame.empty:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            fc = exc.failure_cases
            return list(zip(fc["check"].astype(str), fc["column"], fc["index"], strict=True))
    return []


def _siret_detail(value: str) -> str:
    from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
    from stdnum.fr import siret

    try:
        siret.validate(value)
    except InvalidLength:
        return f"{len(value)} caractères au lieu de 14"
    except InvalidFormat:
        return "il ne doit contenir que des chiffres"
    except InvalidChecksum:
        return "la clé de contrôle ne correspond pas : un chiffre est probablement mal recopié"
    except Exception:
        return "format incorrect"
    return ""


def _bounds_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"de {display_number(lo)} à {display_number(hi)}"
    if lo is not None:
        return f"au moins {display_number(lo)}"
    return f"au plus {display_number(hi)}"


_HINTS = {
    "pole_id": "l'identifiant attribué par l'équipe nationale, par exemple PTCE-001",
    "siret": "14 chiffres, sur annuaire-entreprises.data.gouv.fr",
    "commune": "code INSEE à 5 caractères, par exemple 26281",
    "departement": "code du département, par exemple 26",
    "region": "choisissez dans la liste déroulante",
    "year": "année à 4 chiffres",
    "period": "année à 4 chiffres sur laquelle portent les données",
    "email": "nom@domaine.fr",
    "date": "JJ/MM/AAAA",
    "text": "voir la colonne Aide",
}


def _hint(fld: Field) -> str:
    if fld.kind == "code" and fld.liste:
        return "choisissez dans la liste déroulante"
    return _HINTS.get(fld.kind, "voir la colonne Aide")


def _allowed(ref: Referentiel, liste: str | None) -> str:
    if not liste:
        return ""
    labels = ref.lists[liste].labels
    text = ", ".join(labels)
    return text if len(text) < 200 else ", ".join(labels[:8]) + "…"


def field_issue(code: str, fld: Field, ctx: Context, sheet: str, cell, column: str) -> I.Issue:
    ref = ctx.ref
    params: dict[str, Any] = {"label": fld.label}
    shown = cell.raw if cell.raw not in (None, "") else cell.value
    if code == "required-value":
        params["hint"] = _hint(fld)
    elif code == "not-in-list":
        params["allowed"] = _allowed(ref, fld.liste)
    elif code == "invalid-siret":
        params["detail"] = _siret_detail(str(cell.value))
        shown = cell.value
    elif code == "invalid-year":
        lo, hi = year_bounds(fld, ctx.today.year)
        params["bounds"] = advice.year_bounds_text(lo, hi)
    elif code == "out-of-range":
        k = ref.kinds.get(fld.kind)
        lo = fld.min if fld.min is not None else (k.min if k else None)
        hi = fld.max if fld.max is not None else (k.max if k else None)
        params.update(bounds=_bounds_text(lo, hi), unit=k.unit if k else "")
        shown = display_number(cell.value) if isinstance(cell.value, float) else shown
    elif code == "not-an-integer":
        shown = display_number(cell.value)
    variant, params = advice.advise(code, advice.field_rule(ref, fld), params)
    return I.make(
        code, sheet=sheet, cell=cell.cell, column=column, value=shown, variant=variant, **params
    )


def indicator_issue(code: str, ind: Indicator, sheet: str, cell: str, value: Any) -> I.Issue:
    label = f"{ind.code} {ind.label}"
    if code == "required-value":
        return I.make(
            code,
            sheet=sheet,
            cell=cell,
            column=L.IND_VALUE,
            label=label,
            hint=advice.required_hint(advice.indicator_rule(ind)),
        )
    if code == "out-of-range":
        return I.make(
            code,
            sheet=sheet,
            cell=cell,
            column=L.IND_VALUE,
            value=display_number(value),
            label=label,
            bounds=_bounds_text(ind.min, ind.max),
            unit=ind.unit,
            variant=advice.advise(code, advice.indicator_rule(ind), {})[0],
        )
    return I.make(
        code, sheet=sheet, cell=cell, column=L.IND_VALUE, value=display_number(value), label=label
    )
