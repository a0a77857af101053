"""Validation against the référentiel: pandera schemas generated from the catalogue, then the
rules of `rules` (registry, cross-sheet, previous period).

Many workbooks are validated together: one frame per sheet for the whole batch (one row per
workbook, or per member), one lazy pandera validation per frame, and each failure is mapped
back to its workbook and cell. The check names are our issue codes, so the translation is a
lookup; nothing is done per row unless pandera reported a failure there.

Cross-indicator checks follow the severity policy written in `rules`: insertion jobs (IND24)
and net jobs created (IND23) above direct jobs (IND22) cannot both be true (a part larger
than its whole) → erreur; public-funding share (IND08) plus self-financing rate (IND26) above
100 can come from a receipt counted twice → avertissement.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue.referentiel import Field, Indicator, Referentiel
from ptce_pipeline.catalogue.registry import POLE_ID_RE
from ptce_pipeline.content.model import Content
from ptce_pipeline.content.values import display_number
from ptce_pipeline.validation.model import Context, Item
from ptce_pipeline.validation.rules import COMMUNE_RE, PERIOD_MIN, business_rules

SHEET_ORDER = {name: i for i, name in enumerate(L.DATA_SHEETS)}
_EMAIL_RE = r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$"
YEAR_MIN = 1900


# --------------------------------------------------------------------------------------------
# pandera schemas generated from the catalogue
# --------------------------------------------------------------------------------------------
def _siret_valid(s):
    """Vectorised over the distinct values: python-stdnum's SIRET check (Luhn, with the
    La Poste exception: SIREN 356000000 whose digits sum to a multiple of 5)."""
    from stdnum.fr import siret

    bad = [v for v in s.dropna().unique() if not siret.is_valid(str(v))]
    return ~s.isin(bad) if bad else s.notna() | s.isna()


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


def _year_bounds(fld: Field, today_year: int) -> tuple[int, int]:
    if fld.kind == "period":
        return int(fld.min or PERIOD_MIN), int(fld.max or today_year)
    return int(fld.min or YEAR_MIN), int(fld.max or today_year)


def _field_checks(fld: Field, ref: Referentiel, today_year: int) -> list:
    import pandera.pandas as pa

    checks = []
    if fld.required:
        checks.append(pa.Check(lambda s: s.notna(), name="required-value", ignore_na=False))
    kind = fld.kind
    if kind == "pole_id":
        checks.append(
            pa.Check(lambda s: s.astype(str).str.match(POLE_ID_RE.pattern), name="invalid-pole-id")
        )
    elif kind == "siret":
        checks.append(pa.Check(_siret_valid, name="invalid-siret"))
    elif kind == "code" and fld.liste:
        codes = [v.code for v in ref.lists[fld.liste].values]
        checks.append(pa.Check(lambda s, codes=codes: s.isin(codes), name="not-in-list"))
    elif kind == "commune":
        checks.append(
            pa.Check(lambda s: s.astype(str).str.match(COMMUNE_RE.pattern), name="invalid-commune")
        )
    elif kind == "departement":
        deps = list(ref.geography.departements)
        checks.append(pa.Check(lambda s, deps=deps: s.isin(deps), name="invalid-departement"))
    elif kind == "region":
        regions = list(ref.geography.regions)
        checks.append(pa.Check(lambda s, regions=regions: s.isin(regions), name="invalid-region"))
    elif kind == "year":
        lo, hi = _year_bounds(fld, today_year)
        checks.append(pa.Check(lambda s, lo=lo, hi=hi: s.between(lo, hi), name="invalid-year"))
    elif kind == "period":
        # too early only: a period after the current year is `period-in-future` (rules)
        lo, _hi = _year_bounds(fld, today_year)
        checks.append(pa.Check(lambda s, lo=lo: s >= lo, name="invalid-year"))
    elif kind == "email":
        checks.append(pa.Check(lambda s: s.astype(str).str.match(_EMAIL_RE), name="invalid-email"))
    elif kind in ("count", "euros", "fte", "percent", "m2", "scale"):
        k = ref.kinds.get(kind)
        lo = fld.min if fld.min is not None else (k.min if k else None)
        hi = fld.max if fld.max is not None else (k.max if k else None)
        checks.extend(_numeric_checks(lo, hi, integer=bool(k and k.integer)))
    return checks


def _numeric_checks(lo, hi, *, integer: bool) -> list:
    import pandera.pandas as pa

    checks = []
    if integer:
        checks.append(pa.Check(lambda s: (s % 1) == 0, name="not-an-integer"))
    if lo is not None or hi is not None:
        lo_ = float("-inf") if lo is None else lo
        hi_ = float("inf") if hi is None else hi
        checks.append(
            pa.Check(lambda s, lo_=lo_, hi_=hi_: s.between(lo_, hi_), name="out-of-range")
        )
    return checks


_SCHEMAS: dict[tuple[str, int], tuple] = {}


def _schemas(ref: Referentiel, today_year: int):
    key = (ref.sha256, today_year)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _build_schemas(ref, today_year)
    return _SCHEMAS[key]


def _build_schemas(ref: Referentiel, today_year: int):
    import pandera.pandas as pa

    def column(checks):
        return pa.Column(None, nullable=True, required=False, checks=checks)

    identity = pa.DataFrameSchema(
        {f.key: column(_field_checks(f, ref, today_year)) for f in ref.identity},
        name="identite",
    )
    member_checks = []
    if "siret" in ref.member_by_key:
        member_checks.append(
            pa.Check(
                lambda df: ~(df["siret"].notna() & df.duplicated(["_item", "siret"], keep="first")),
                name="duplicate-siret",
            )
        )
    members = pa.DataFrameSchema(
        {f.key: column(_field_checks(f, ref, today_year)) for f in ref.members},
        checks=member_checks,
        name="membres",
    )
    ind_cols = {}
    for ind in ref.indicators:
        checks = []
        if ind.required:
            checks.append(pa.Check(lambda s: s.notna(), name="required-value", ignore_na=False))
        checks.extend(_numeric_checks(ind.min, ind.max, integer=ind.integer))
        ind_cols[ind.code] = column(checks)
    indicators = pa.DataFrameSchema(ind_cols, checks=_cross_checks(ref), name="indicateurs")
    answers = [v.code for v in ref.lists["reponses_criteres"].values]
    criteria = pa.DataFrameSchema(
        {
            c.code: column(
                [
                    pa.Check(lambda s: s.notna(), name="missing-answer", ignore_na=False),
                    pa.Check(lambda s, answers=answers: s.isin(answers), name="not-in-list"),
                ]
            )
            for c in ref.criteria
        },
        name="criteres",
    )
    return identity, members, indicators, criteria


# Cross-indicator rules: (code, cell reported, other cell, failing mask of the frame). The
# severity is the catalogue's (see the policy in the module docstring).
CROSS_RULES = (
    ("jobs-created-above-direct", "IND23", "IND22", lambda df: df["IND23"] > df["IND22"]),
    ("insertion-above-direct", "IND24", "IND22", lambda df: df["IND24"] > df["IND22"]),
    ("funding-shares-above-100", "IND08", "IND26", lambda df: (df["IND08"] + df["IND26"]) > 100),
)
_CROSS = {rule[0]: rule for rule in CROSS_RULES}


def _cross_checks(ref: Referentiel) -> list:
    import pandera.pandas as pa

    codes = set(ref.indicator_by_code)
    checks = []
    for name, a, b, test in CROSS_RULES:
        if a in codes and b in codes:
            checks.append(
                pa.Check(lambda df, test=test: ~test(df).fillna(False).astype(bool), name=name)
            )
    return checks


def _run(schema, frame) -> list[tuple[str, Any, Any]]:
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


# --------------------------------------------------------------------------------------------
# pandera failures → issues
# --------------------------------------------------------------------------------------------
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


def _field_issue(code: str, fld: Field, ctx: Context, sheet: str, cell, column: str) -> I.Issue:
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
        lo, hi = _year_bounds(fld, ctx.today.year)
        params.update(min=lo, max=hi)
    elif code == "out-of-range":
        k = ref.kinds.get(fld.kind)
        lo = fld.min if fld.min is not None else (k.min if k else None)
        hi = fld.max if fld.max is not None else (k.max if k else None)
        params.update(bounds=_bounds_text(lo, hi), unit=k.unit if k else "")
        shown = display_number(cell.value) if isinstance(cell.value, float) else shown
    elif code == "not-an-integer":
        shown = display_number(cell.value)
    return I.make(code, sheet=sheet, cell=cell.cell, column=column, value=shown, **params)


def _indicator_issue(code: str, ind: Indicator, sheet: str, cell: str, value: Any) -> I.Issue:
    label = f"{ind.code} {ind.label}"
    if code == "required-value":
        hint = "0 si la réponse est « aucun »" if ind.kind != "percent" else "un pourcentage"
        return I.make(
            code,
            sheet=sheet,
            cell=cell,
            column=L.IND_VALUE,
            label=label,
            hint=f"{hint}, en {ind.unit}" if ind.unit and ind.kind != "percent" else hint,
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
        )
    return I.make(
        code, sheet=sheet, cell=cell, column=L.IND_VALUE, value=display_number(value), label=label
    )


# --------------------------------------------------------------------------------------------
def validate_batch(items: list[Item], ctx: Context) -> list[list[I.Issue]]:
    """Validate many workbooks at once → the issues of each, in the order given."""
    result: list[list[I.Issue]] = [list(it.content.issues) for it in items]
    schemas = _schemas(ctx.ref, ctx.today.year)
    # Workbooks that could not be read as the template are not validated further.
    live = [k for k, it in enumerate(items) if not _structurally_dead(it.content)]
    filled = [k for k in live if not items[k].content.empty]
    names = {k: items[k].content.sheet_names for k in live}

    def sname(k: int, template_name: str) -> str:
        return names[k].get(template_name, template_name)

    _identity(items, filled, ctx, schemas[0], sname, result)
    _members(items, live, ctx, schemas[1], sname, result)
    _indicators(items, filled, ctx, schemas[2], sname, result)
    _criteria(items, filled, ctx, schemas[3], sname, result)
    for k in filled:
        result[k].extend(business_rules(items[k], ctx, lambda name, k=k: sname(k, name)))
    return [_finish(issues, items[k].content) for k, issues in enumerate(result)]


def _wide(items: list[Item], ks: list[int], attr: str, columns) -> Any:
    """One row per workbook (index = its position in the batch), one column per key."""
    import pandas as pd

    rows = {k: {key: c.value for key, c in getattr(items[k].content, attr).items()} for k in ks}
    rows = {k: row for k, row in rows.items() if row}
    if not rows:
        return None
    return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(columns))


def _identity(items, ks, ctx: Context, schema, sname, result) -> None:
    ref = ctx.ref
    frame = _wide(items, ks, "identity", ref.identity_by_key)
    if frame is None:
        return
    for check, column, index in _run(schema, frame.astype(object)):
        k = int(index)
        cell = items[k].content.identity.get(column)
        if cell is not None:
            fld = ref.identity_by_key[column]
            sheet = sname(k, L.SHEET_IDENTITY)
            result[k].append(_field_issue(check, fld, ctx, sheet, cell, L.ID_VALUE))


def _members(items, ks, ctx: Context, schema, sname, result) -> None:
    import pandas as pd

    ref = ctx.ref
    rows, where = [], []
    for k in ks:
        for member in items[k].content.members:
            rows.append({"_item": k, **{key: c.value for key, c in member.items()}})
            where.append((k, member))
    if not rows:
        return
    frame = pd.DataFrame(rows).reindex(columns=["_item", *ref.member_by_key]).astype(object)
    for check, column, index in _run(schema, frame):
        k, member = where[int(index)]
        sheet = sname(k, L.SHEET_MEMBERS)
        if check == "duplicate-siret":
            if column != "siret":  # a frame-wide check fails once per column of the row
                continue
            cell = member["siret"]
            first = next(
                m["siret"].cell
                for m in items[k].content.members
                if "siret" in m and m["siret"].value == cell.value
            )
            result[k].append(
                I.make(
                    "duplicate-siret",
                    sheet=sheet,
                    cell=cell.cell,
                    column=ref.member_by_key["siret"].label,
                    value=cell.value,
                    other=first,
                )
            )
            continue
        cell = member.get(column)
        if cell is not None:
            fld = ref.member_by_key[column]
            result[k].append(_field_issue(check, fld, ctx, sheet, cell, fld.label))


def _indicators(items, ks, ctx: Context, schema, sname, result) -> None:
    ref = ctx.ref
    frame = _wide(items, ks, "indicators", ref.indicator_by_code)
    if frame is None:
        return
    for check, column, index in _run(schema, frame.astype("float64")):
        k = int(index)
        content = items[k].content
        sheet = sname(k, L.SHEET_INDICATORS)
        rule = _CROSS.get(check)
        if rule is not None:
            _name, a, b, _test = rule
            if column != a:  # reported once, on the cell of the first indicator
                continue
            cell, other = content.indicators.get(a), content.indicators.get(b)
            if cell is None or other is None:
                continue
            result[k].append(
                I.make(
                    check,
                    sheet=sheet,
                    cell=cell.cell,
                    column=L.IND_VALUE,
                    value=display_number(cell.value),
                    other=display_number(other.value),
                    other_cell=other.cell,
                )
            )
            continue
        cell = content.indicators.get(column)
        if cell is not None:
            ind = ref.indicator_by_code[column]
            result[k].append(_indicator_issue(check, ind, sheet, cell.cell, cell.value))


def _criteria(items, ks, ctx: Context, schema, sname, result) -> None:
    ref = ctx.ref
    frame = _wide(items, ks, "criteria", ref.criterion_by_code)
    if frame is None:
        return
    answers = ", ".join(ref.lists["reponses_criteres"].labels)
    for check, column, index in _run(schema, frame.astype(object)):
        k = int(index)
        cell = items[k].content.criteria.get(column)
        if cell is None:
            continue
        crit = ref.criterion_by_code[column]
        sheet = sname(k, L.SHEET_CRITERIA)
        if check == "missing-answer":
            issue = I.make(
                "missing-answer",
                sheet=sheet,
                cell=cell.cell,
                column=L.CRIT_ANSWER,
                code=crit.code,
                label=crit.label,
            )
        else:
            issue = I.make(
                "not-in-list",
                sheet=sheet,
                cell=cell.cell,
                column=L.CRIT_ANSWER,
                value=cell.raw,
                label=f"{crit.code} {L.CRIT_ANSWER}",
                allowed=answers,
            )
        result[k].append(issue)


def _structurally_dead(content: Content) -> bool:
    return any(i.code in ("unknown-template", "unknown-template-version") for i in content.issues)


def _finish(issues: list[I.Issue], content: Content) -> list[I.Issue]:
    """Drop a second issue on a cell the reader already flagged, remove exact duplicates, sort."""
    out: list[I.Issue] = []
    seen: set = set()
    flagged = content.flagged
    for issue in issues:
        key = (issue.code, issue.sheet, issue.cell)
        if key in seen:
            continue
        seen.add(key)
        if (
            issue.code in ("required-value", "missing-answer", "not-in-list")
            and (issue.sheet, issue.cell) in flagged
            and issue not in content.issues
        ):
            continue
        out.append(issue)
    out.sort(key=_sort_key)
    return out


_REF_RE = re.compile(r"([A-Z]+)(\d+)")


def _sort_key(issue: I.Issue):
    order = SHEET_ORDER.get(issue.sheet or "", -1 if issue.sheet is None else 99)
    row, col = 0, ""
    if issue.cell:
        m = _REF_RE.match(issue.cell)
        if m:
            row, col = int(m.group(2)), m.group(1)
    return (order, issue.sheet or "", row, len(col), col, issue.code)


def status_of(issues: list[I.Issue]) -> str:
    errors, warnings_ = I.counts(issues)
    if errors:
        return "refusee"
    return "acceptee_avec_avertissements" if warnings_ else "acceptee"
