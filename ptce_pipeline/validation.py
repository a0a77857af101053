"""Validation against the référentiel: pandera schemas generated from the catalogue, plus the
rules that need the registry, the members list or the previous period.

Many workbooks are validated in one frame per sheet (one row per workbook, or per member),
lazily, and each pandera failure is mapped back to its workbook and cell. The check names are
our issue codes, so the translation is a lookup.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import issues as I
from . import layout as L
from .extract import Content
from .referentiel import Field, Indicator, Referentiel
from .registry import Campaigns, Registry
from .values import display_number

SHEET_ORDER = {name: i for i, name in enumerate(L.DATA_SHEETS)}
_COMMUNE_RE = r"^(\d{5}|2[AB]\d{3})$"
_POLE_RE = r"^PTCE-\d{3,}$"
_EMAIL_RE = r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$"


@dataclass
class Context:
    ref: Referentiel
    registry: Registry | None = None
    campaigns: Campaigns | None = None
    today: dt.date = field(default_factory=dt.date.today)
    # (pole_id, period) → (previous period, {indicator code: value}) or None
    previous: Callable[[str, int], tuple[int, dict[str, float]] | None] | None = None


@dataclass
class Item:
    content: Content
    folder: str | None = None  # the inbox folder it was dropped in (None: folder rule skipped)


# --------------------------------------------------------------------------------------------
# pandera schemas generated from the catalogue
# --------------------------------------------------------------------------------------------
def _siret_ok(value: str) -> bool:
    from stdnum.fr import siret

    return siret.is_valid(value)


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
        return "la clé de contrôle ne correspond pas"
    except Exception:
        return "format incorrect"
    return ""


def _field_checks(fld: Field, ref: Referentiel, today_year: int) -> list:
    import pandera.pandas as pa

    checks = []
    if fld.required:
        checks.append(pa.Check(lambda s: s.notna(), name="required-value", ignore_na=False))
    kind = fld.kind
    if kind == "pole_id":
        checks.append(pa.Check(lambda s: s.astype(str).str.match(_POLE_RE), name="invalid-pole-id"))
    elif kind == "siret":
        checks.append(
            pa.Check(lambda v: _siret_ok(str(v)), element_wise=True, name="invalid-siret")
        )
    elif kind == "code" and fld.liste:
        codes = [v.code for v in ref.lists[fld.liste].values]
        checks.append(pa.Check(lambda s, codes=codes: s.isin(codes), name="not-in-list"))
    elif kind == "commune":
        checks.append(
            pa.Check(lambda s: s.astype(str).str.match(_COMMUNE_RE), name="invalid-commune")
        )
    elif kind == "departement":
        deps = list(ref.geography.departements)
        checks.append(pa.Check(lambda s, deps=deps: s.isin(deps), name="invalid-departement"))
    elif kind == "region":
        regions = list(ref.geography.regions)
        checks.append(pa.Check(lambda s, regions=regions: s.isin(regions), name="invalid-region"))
    elif kind == "year":
        lo, hi = int(fld.min or 1900), int(fld.max or today_year)
        checks.append(pa.Check(lambda s, lo=lo, hi=hi: s.between(lo, hi), name="invalid-year"))
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

    identity = pa.DataFrameSchema(
        {
            f.key: pa.Column(
                None, nullable=True, required=False, checks=_field_checks(f, ref, today_year)
            )
            for f in ref.identity
        },
        name="identite",
    )
    members = pa.DataFrameSchema(
        {
            f.key: pa.Column(
                None, nullable=True, required=False, checks=_field_checks(f, ref, today_year)
            )
            for f in ref.members
        },
        checks=[
            pa.Check(
                lambda df: ~(df["siret"].notna() & df.duplicated(["_item", "siret"], keep="first")),
                name="duplicate-siret",
            ),
        ]
        if "siret" in {f.key for f in ref.members}
        else [],
        name="membres",
    )
    ind_cols = {}
    for ind in ref.indicators:
        checks = []
        if ind.required:
            checks.append(pa.Check(lambda s: s.notna(), name="required-value", ignore_na=False))
        checks.extend(_numeric_checks(ind.min, ind.max, integer=ind.integer))
        ind_cols[ind.code] = pa.Column(None, nullable=True, required=False, checks=checks)
    indicators = pa.DataFrameSchema(ind_cols, checks=_cross_checks(ref), name="indicateurs")
    answers = [v.code for v in ref.lists["reponses_criteres"].values]
    criteria = pa.DataFrameSchema(
        {
            c.code: pa.Column(
                None,
                nullable=True,
                required=False,
                checks=[
                    pa.Check(lambda s: s.notna(), name="missing-answer", ignore_na=False),
                    pa.Check(lambda s, answers=answers: s.isin(answers), name="not-in-list"),
                ],
            )
            for c in ref.criteria
        },
        name="criteres",
    )
    return identity, members, indicators, criteria


# Cross-indicator rules: (code, cell of, other, test(df) → failing mask)
CROSS_RULES = (
    ("jobs-created-above-direct", "IND23", "IND22", lambda df: df["IND23"] > df["IND22"]),
    ("insertion-above-direct", "IND24", "IND22", lambda df: df["IND24"] > df["IND22"]),
    ("funding-shares-above-100", "IND08", "IND26", lambda df: (df["IND08"] + df["IND26"]) > 100),
)


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


def _run(schema, frame) -> list[tuple[str, Any, Any, Any]]:
    """→ [(check name, column, index, failure value)] — empty when valid."""
    import pandera.pandas as pa

    if frame.empty:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            fc = exc.failure_cases
            out = []
            for row in fc.itertuples(index=False):
                out.append((str(row.check), row.column, row.index, row.failure_case))
            return out
    return []


# --------------------------------------------------------------------------------------------
def _bounds_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"de {display_number(lo)} à {display_number(hi)}"
    if lo is not None:
        return f"au moins {display_number(lo)}"
    return f"au plus {display_number(hi)}"


def _hint(fld_kind: str, ref: Referentiel, liste: str | None) -> str:
    if fld_kind == "code" and liste:
        return "choisissez dans la liste déroulante"
    return {
        "pole_id": "par exemple PTCE-001",
        "siret": "14 chiffres",
        "commune": "code INSEE à 5 caractères",
        "departement": "par exemple 26",
        "region": "choisissez dans la liste",
        "year": "année à 4 chiffres",
        "period": "année à 4 chiffres",
        "email": "nom@domaine.fr",
        "date": "JJ/MM/AAAA",
    }.get(fld_kind, "voir la colonne Aide")


def _allowed(ref: Referentiel, liste: str | None) -> str:
    if not liste:
        return ""
    labels = ref.lists[liste].labels
    text = ", ".join(labels)
    return text if len(text) < 200 else ", ".join(labels[:8]) + "…"


def _field_issue(
    code: str,
    fld: Field,
    ref: Referentiel,
    sheet: str,
    cell: str,
    raw: Any,
    value: Any,
    column: str,
) -> I.Issue:
    params: dict[str, Any] = {"label": fld.label}
    shown = raw if raw not in (None, "") else value
    if code == "required-value":
        params["hint"] = _hint(fld.kind, ref, fld.liste)
    elif code == "not-in-list":
        params["allowed"] = _allowed(ref, fld.liste)
    elif code == "invalid-siret":
        params["detail"] = _siret_detail(str(value))
        shown = value
    elif code == "invalid-year":
        params.update(min=int(fld.min or 1900), max=int(fld.max or dt.date.today().year))
    elif code == "out-of-range":
        k = ref.kinds.get(fld.kind)
        lo = fld.min if fld.min is not None else (k.min if k else None)
        hi = fld.max if fld.max is not None else (k.max if k else None)
        params.update(bounds=_bounds_text(lo, hi), unit=k.unit if k else "")
        shown = display_number(value) if isinstance(value, float) else shown
    elif code == "not-an-integer":
        shown = display_number(value)
    return I.make(code, sheet=sheet, cell=cell, column=column, value=shown, **params)


def _indicator_issue(code: str, ind: Indicator, sheet: str, cell: str, value: Any) -> I.Issue:
    label = f"{ind.code} {ind.label}"
    if code == "required-value":
        return I.make(
            code,
            sheet=sheet,
            cell=cell,
            column=L.IND_VALUE,
            label=label,
            hint="laissez « NC » seulement si le référentiel le permet",
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
    import pandas as pd

    ref = ctx.ref
    result: list[list[I.Issue]] = [list(it.content.issues) for it in items]
    schemas = _schemas(ref, ctx.today.year)
    identity_schema, member_schema, indicator_schema, criteria_schema = schemas
    # Workbooks that could not be read as the template are not validated further.
    live = [k for k, it in enumerate(items) if not _structurally_dead(it.content)]
    sheet = {k: items[k].content.sheet_names for k in live}

    def sname(k: int, template_name: str) -> str:
        return sheet[k].get(template_name, template_name)

    # -- identity -------------------------------------------------------------------------------
    rows = {
        k: {key: c.value for key, c in items[k].content.identity.items()}
        for k in live
        if items[k].content.identity and not items[k].content.empty
    }
    if rows:
        frame = pd.DataFrame.from_dict(rows, orient="index")
        for key in ref.identity_by_key:
            if key not in frame:
                frame[key] = None
        for check, column, index, _fv in _run(identity_schema, frame.astype(object)):
            k = int(index)
            cell = items[k].content.identity.get(column)
            if cell is None:
                continue
            fld = ref.identity_by_key[column]
            result[k].append(
                _field_issue(
                    check,
                    fld,
                    ref,
                    sname(k, L.SHEET_IDENTITY),
                    cell.cell,
                    cell.raw,
                    cell.value,
                    L.ID_VALUE,
                )
            )
    # -- members --------------------------------------------------------------------------------
    member_rows = []
    where: list[tuple[int, dict]] = []
    for k in live:
        for member in items[k].content.members:
            member_rows.append({"_item": k, **{key: c.value for key, c in member.items()}})
            where.append((k, member))
    if member_rows:
        frame = pd.DataFrame(member_rows)
        for fld in ref.members:
            if fld.key not in frame:
                frame[fld.key] = None
        seen_dup: set = set()
        for check, column, index, _fv in _run(member_schema, frame.astype(object)):
            k, member = where[int(index)]
            if check == "duplicate-siret":
                if (k, index) in seen_dup:
                    continue
                seen_dup.add((k, index))
                cell = member.get("siret")
                first = next(
                    m["siret"].cell
                    for m in items[k].content.members
                    if "siret" in m and m["siret"].value == cell.value
                )
                result[k].append(
                    I.make(
                        "duplicate-siret",
                        sheet=sname(k, L.SHEET_MEMBERS),
                        cell=cell.cell,
                        column=ref.member_by_key["siret"].label,
                        value=cell.value,
                        other=first,
                    )
                )
                continue
            cell = member.get(column)
            if cell is None:
                continue
            fld = ref.member_by_key[column]
            result[k].append(
                _field_issue(
                    check,
                    fld,
                    ref,
                    sname(k, L.SHEET_MEMBERS),
                    cell.cell,
                    cell.raw,
                    cell.value,
                    fld.label,
                )
            )
    # -- indicators -----------------------------------------------------------------------------
    rows = {
        k: {code: c.value for code, c in items[k].content.indicators.items()}
        for k in live
        if items[k].content.indicators and not items[k].content.empty
    }
    if rows:
        frame = pd.DataFrame.from_dict(rows, orient="index")
        for code in ref.indicator_by_code:
            if code not in frame:
                frame[code] = float("nan")
        frame = frame.astype("float64")
        seen_cross: set = set()
        for check, column, index, _fv in _run(indicator_schema, frame):
            k = int(index)
            content = items[k].content
            rule = next((r for r in CROSS_RULES if r[0] == check), None)
            if rule is not None:
                if (check, k) in seen_cross:
                    continue
                seen_cross.add((check, k))
                _name, a, b, _test = rule
                cell = content.indicators.get(a)
                if cell is None or content.indicators.get(b) is None:
                    continue
                result[k].append(
                    I.make(
                        check,
                        sheet=sname(k, L.SHEET_INDICATORS),
                        cell=cell.cell,
                        column=L.IND_VALUE,
                        value=display_number(cell.value),
                        other=display_number(content.indicators[b].value),
                    )
                )
                continue
            cell = content.indicators.get(column)
            if cell is None:
                continue
            result[k].append(
                _indicator_issue(
                    check,
                    ref.indicator_by_code[column],
                    sname(k, L.SHEET_INDICATORS),
                    cell.cell,
                    cell.value,
                )
            )
    # -- criteria -------------------------------------------------------------------------------
    rows = {
        k: {code: c.value for code, c in items[k].content.criteria.items()}
        for k in live
        if items[k].content.criteria and not items[k].content.empty
    }
    if rows:
        frame = pd.DataFrame.from_dict(rows, orient="index")
        for code in ref.criterion_by_code:
            if code not in frame:
                frame[code] = None
        answers_list = ref.lists["reponses_criteres"]
        for check, column, index, _fv in _run(criteria_schema, frame.astype(object)):
            k = int(index)
            cell = items[k].content.criteria.get(column)
            if cell is None:
                continue
            crit = ref.criterion_by_code[column]
            if check == "missing-answer":
                issue = I.make(
                    "missing-answer",
                    sheet=sname(k, L.SHEET_CRITERIA),
                    cell=cell.cell,
                    column=L.CRIT_ANSWER,
                    code=crit.code,
                    label=crit.label,
                )
            else:
                issue = I.make(
                    "not-in-list",
                    sheet=sname(k, L.SHEET_CRITERIA),
                    cell=cell.cell,
                    column=L.CRIT_ANSWER,
                    value=cell.raw,
                    label=f"{crit.code} {L.CRIT_ANSWER}",
                    allowed=", ".join(answers_list.labels),
                )
            result[k].append(issue)
    # -- rules that need the registry, several sheets or the previous period --------------------
    for k in live:
        if not items[k].content.empty:
            result[k].extend(_business_rules(items[k], ctx, lambda name, k=k: sname(k, name)))
    return [_finish(issues, items[k].content) for k, issues in enumerate(result)]


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


def _business_rules(item: Item, ctx: Context, sname) -> Iterable[I.Issue]:
    ref = ctx.ref
    content = item.content
    ident = content.identity
    id_sheet = sname(L.SHEET_IDENTITY)

    def val(key):
        cell = ident.get(key)
        return None if cell is None else cell.value

    pole_id = val("pole_id")
    period = val("periode")
    pole_cell = ident.get("pole_id")
    period_cell = ident.get("periode")
    # registry rules
    if ctx.registry is not None and isinstance(pole_id, str) and re.match(_POLE_RE, pole_id):
        pole = ctx.registry.poles.get(pole_id)
        if pole is None:
            yield I.make(
                "pole-not-registered",
                sheet=id_sheet,
                cell=pole_cell.cell,
                column=L.ID_VALUE,
                value=pole_id,
            )
        elif isinstance(period, int) and not pole.expected_in(period):
            last = pole.derniere_periode or "aujourd'hui"
            yield I.make(
                "period-out-of-participation",
                sheet=id_sheet,
                cell=period_cell.cell,
                column=L.ID_VALUE,
                value=period,
                pole=pole_id,
                first=pole.premiere_periode,
                last=last,
            )
    if item.folder is not None and isinstance(pole_id, str) and pole_id and pole_id != item.folder:
        yield I.make(
            "pole-folder-mismatch",
            sheet=id_sheet,
            cell=pole_cell.cell,
            column=L.ID_VALUE,
            value=pole_id,
            folder=item.folder,
        )
    if isinstance(period, int) and period > ctx.today.year:
        yield I.make(
            "period-in-future",
            sheet=id_sheet,
            cell=period_cell.cell,
            column=L.ID_VALUE,
            value=period,
            year=ctx.today.year,
        )
    # geography
    geo = ref.geography
    dep, region, commune = val("departement"), val("region"), val("commune")
    if dep in geo.departements:
        expected_region = geo.departements[dep][1]
        if region in geo.regions and region != expected_region:
            yield I.make(
                "region-departement-mismatch",
                sheet=id_sheet,
                cell=ident["region"].cell,
                column=L.ID_VALUE,
                value=geo.regions[region],
                departement=dep,
                expected=geo.regions[expected_region],
            )
        if (
            isinstance(commune, str)
            and re.match(_COMMUNE_RE, commune)
            and not commune.startswith(dep)
        ):
            yield I.make(
                "commune-departement-mismatch",
                sheet=id_sheet,
                cell=ident["commune"].cell,
                column=L.ID_VALUE,
                value=commune,
                departement=dep,
            )
    # members: composition
    if content.members or content.member_columns:
        mem_sheet = sname(L.SHEET_MEMBERS)
        cats = [m["categorie"].value for m in content.members if "categorie" in m]
        ess = ref.lists["categories_membres"].codes_with("ess")
        ent = ref.lists["categories_membres"].codes_with("enterprise")
        n = len(content.members)
        next_row = (content.member_rows[-1] + 1) if content.member_rows else L.FIRST_DATA_ROW
        name_col = content.member_columns.get("nom", "B")
        missing = []
        if n < 3:
            missing.append(
                f"{n} membre{'s' if n > 1 else ''} déclaré{'s' if n > 1 else ''} (au moins 3)"
            )
        if not any(c in ess for c in cats):
            missing.append("aucune entreprise ou réseau de l'ESS")
        if not any(c in ent for c in cats):
            missing.append("aucune entreprise hors ESS")
        if missing:
            yield I.make(
                "too-few-legal-persons",
                sheet=mem_sheet,
                cell=f"{name_col}{next_row}",
                detail="; ".join(missing),
            )
        elif n < 5:
            yield I.make("few-members", sheet=mem_sheet, cell=f"{name_col}{next_row}", count=n)
        # collectivités declared in IND07 vs listed
        coll = sum(1 for c in cats if c == "collectivite")
        ind07 = content.indicators.get("IND07")
        if ind07 is not None and isinstance(ind07.value, float) and ind07.value < coll:
            yield I.make(
                "collectivites-below-members",
                sheet=sname(L.SHEET_INDICATORS),
                cell=ind07.cell,
                column=L.IND_VALUE,
                value=display_number(ind07.value),
                other=coll,
            )
    # criteria: a "Oui" without justification
    for code, cell in content.criteria.items():
        if cell.value == "oui":
            why = content.justifications.get(code)
            if why is None or not why.value:
                yield I.make(
                    "justification-missing",
                    sheet=sname(L.SHEET_CRITERIA),
                    cell=why.cell if why else cell.cell,
                    column="Justification",
                    code=code,
                )
    # cross-period
    if ctx.previous is not None and isinstance(pole_id, str) and isinstance(period, int):
        prev = ctx.previous(pole_id, period)
        if prev:
            prev_period, values = prev
            for code, cell in content.indicators.items():
                old = values.get(code)
                new = cell.value
                if not isinstance(new, float) or old is None or old <= 0 or new <= 0:
                    continue
                if max(old, new) / min(old, new) > 10:
                    ind = ref.indicator_by_code[code]
                    yield I.make(
                        "large-change",
                        sheet=sname(L.SHEET_INDICATORS),
                        cell=cell.cell,
                        column=L.IND_VALUE,
                        value=display_number(new),
                        label=f"{code} {ind.label}",
                        previous=display_number(old),
                        previous_period=prev_period,
                    )


def status_of(issues: list[I.Issue]) -> str:
    errors, warnings_ = I.counts(issues)
    if errors:
        return "refusee"
    return "acceptee_avec_avertissements" if warnings_ else "acceptee"
