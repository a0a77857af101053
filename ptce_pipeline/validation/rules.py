"""The rules pandera cannot see from one sheet's row: the registry (who may submit what), the
consistency of the identity sheet, the members' composition, the indicators against the
members list, the criteria's justifications and the previous period.

Each rule yields issues on the cell the pole must change. Severity policy (shared with the
cross-indicator checks in `validation`): a rule is an *erreur* when the values cannot both be
true under the référentiel's own definitions (a part larger than its whole, a pole created
after the year it reports on, a composition below the legal floor) and an *avertissement*
when they are only unlikely (they may be right, or the mistake may be elsewhere, e.g. in a
member's category). Everything here reads the workbook's content and the context only: the
registry and campaigns come from the home's files, the previous period from the analysts'
snapshot, never from the live warehouse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

from ptce_pipeline.catalogue import POLE_ID_RE, advice
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.content import display_number
from ptce_pipeline.validation.model import Context, Item

COMMUNE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
# The first plausible period of the monitoring (the experimentation's first poles were chosen
# in 2011–2012); a référentiel field `min` overrides it. The catalogue holds it, so the reader's
# messages state the same bounds.
PERIOD_MIN = advice.PERIOD_MIN
CHANGE_FACTOR = 10


def business_rules(item: Item, ctx: Context, sname: Callable[[str], str]) -> Iterable[I.Issue]:
    content = item.content
    ident = content.identity
    pole_id = _val(ident, "pole_id")
    period = _val(ident, "periode")
    valid_pole = isinstance(pole_id, str) and bool(POLE_ID_RE.match(pole_id))
    # a period the rules can compare with: a plausible year, not in the future
    usable = (
        period if isinstance(period, int) and period_min(ctx) <= period <= ctx.today.year else None
    )
    id_sheet = sname(L.SHEET_IDENTITY)
    yield from _registry(item, ctx, id_sheet, pole_id if valid_pole else None, usable)
    yield from _identity(item, ctx, id_sheet, period, usable)
    yield from _geography(item, ctx, id_sheet)
    yield from _members(item, ctx, sname, usable)
    yield from _criteria(item, sname)
    if valid_pole and usable is not None:
        yield from _cross_period(item, ctx, sname, pole_id, usable)


def period_min(ctx: Context) -> int:
    fld = ctx.ref.identity_by_key.get("periode")
    return int(fld.min) if fld is not None and fld.min is not None else PERIOD_MIN


def _val(cells: dict, key: str):
    cell = cells.get(key)
    return None if cell is None else cell.value


def _registry(item: Item, ctx: Context, sheet: str, pole_id: str | None, period: int | None):
    ident = item.content.identity
    if pole_id is None:
        return
    at = ident["pole_id"].cell
    if item.folder is not None and pole_id != item.folder:
        yield I.make(
            "pole-folder-mismatch",
            sheet=sheet,
            cell=at,
            column=L.ID_VALUE,
            value=pole_id,
            folder=item.folder,
        )
    if ctx.registry is None:
        return
    pole = ctx.registry.poles.get(pole_id)
    if pole is None:
        yield I.make("pole-not-registered", sheet=sheet, cell=at, column=L.ID_VALUE, value=pole_id)
        return
    if period is not None and not pole.expected_in(period):
        yield I.make(
            "period-out-of-participation",
            sheet=sheet,
            cell=ident["periode"].cell,
            column=L.ID_VALUE,
            value=period,
            pole=pole_id,
            first=pole.premiere_periode,
            last=pole.derniere_periode or "aujourd'hui",
        )
    dep = ident.get("departement")
    geo = ctx.ref.geography
    if (
        dep is not None
        and dep.value in geo.departements
        and pole.departement in geo.departements
        and dep.value != pole.departement
    ):
        yield I.make(
            "departement-registry-mismatch",
            sheet=sheet,
            cell=dep.cell,
            column=L.ID_VALUE,
            value=dep.value,
            expected=pole.departement,
        )


def _identity(item: Item, ctx: Context, sheet: str, typed, period: int | None):
    ident = item.content.identity
    if isinstance(typed, int) and typed > ctx.today.year:
        yield I.make(
            "period-in-future",
            sheet=sheet,
            cell=ident["periode"].cell,
            column=L.ID_VALUE,
            value=typed,
            year=ctx.today.year,
        )
    created = ident.get("annee_creation")
    if (
        period is not None
        and created is not None
        and isinstance(created.value, int)
        and period < created.value <= ctx.today.year  # later years: `invalid-year`
    ):
        yield I.make(
            "creation-after-period",
            sheet=sheet,
            cell=created.cell,
            column=L.ID_VALUE,
            value=created.value,
            period=period,
        )
    filled = ident.get("date_remplissage")
    if filled is not None and isinstance(filled.value, dt.date):
        detail = None
        if filled.value > ctx.today:
            detail = f"dans le futur (nous sommes le {ctx.today:%d/%m/%Y})"
        elif period is not None and filled.value < dt.date(period, 1, 1):
            detail = f"antérieure au début de la période {period}"
        if detail:
            fld = ctx.ref.identity_by_key["date_remplissage"]
            yield I.make(
                "implausible-fill-date",
                sheet=sheet,
                cell=filled.cell,
                column=L.ID_VALUE,
                value=f"{filled.value:%d/%m/%Y}",
                detail=detail,
                variant=advice.advise("implausible-fill-date", advice.field_rule(ctx.ref, fld), {})[
                    0
                ],
            )


def _geography(item: Item, ctx: Context, sheet: str):
    ident = item.content.identity
    geo = ctx.ref.geography
    dep, region, commune = _val(ident, "departement"), _val(ident, "region"), _val(ident, "commune")
    if dep not in geo.departements:
        return
    expected_region = geo.departements[dep][1]
    if region in geo.regions and region != expected_region:
        yield I.make(
            "region-departement-mismatch",
            sheet=sheet,
            cell=ident["region"].cell,
            column=L.ID_VALUE,
            value=geo.regions[region],
            departement=dep,
            expected=geo.regions[expected_region],
        )
    if isinstance(commune, str) and COMMUNE_RE.match(commune) and not commune.startswith(dep):
        yield I.make(
            "commune-departement-mismatch",
            sheet=sheet,
            cell=ident["commune"].cell,
            column=L.ID_VALUE,
            value=commune,
            departement=dep,
        )


def _members(item: Item, ctx: Context, sname, period: int | None):
    content = item.content
    if not (content.members or content.member_columns):
        return  # the sheet is missing: already reported
    ref = ctx.ref
    sheet = sname(L.SHEET_MEMBERS)
    categories = ref.lists["categories_membres"]
    cats = [m["categorie"].value for m in content.members if "categorie" in m]
    ess = categories.codes_with("ess")
    enterprise = categories.codes_with("enterprise")
    n = len(content.members)
    # the composition rules point at the first free row: where the missing member goes
    next_row = (content.member_rows[-1] + 1) if content.member_rows else L.FIRST_DATA_ROW
    at = f"{content.member_columns.get('nom', 'B')}{next_row}"
    missing = []
    if n < 3:
        s = "s" if n > 1 else ""
        missing.append(f"{n} membre{s} déclaré{s} (au moins 3)")
    if not any(c in ess for c in cats):
        missing.append("aucune entreprise ou réseau de l'ESS")
    if not any(c in enterprise for c in cats):
        missing.append("aucune entreprise hors ESS")
    if missing:
        yield I.make("too-few-legal-persons", sheet=sheet, cell=at, detail=" ; ".join(missing))
    elif n < 5:
        yield I.make("few-members", sheet=sheet, cell=at, count=n)
    if period is not None:
        label = (
            ref.member_by_key["annee_adhesion"].label
            if "annee_adhesion" in ref.member_by_key
            else None
        )
        for member in content.members:
            joined = member.get("annee_adhesion")
            if joined is not None and isinstance(joined.value, int) and joined.value > period:
                yield I.make(
                    "member-joined-after-period",
                    sheet=sheet,
                    cell=joined.cell,
                    column=label,
                    value=joined.value,
                    period=period,
                )
    # collectivités declared in IND07 against the collectivités listed
    listed = sum(1 for c in cats if c == "collectivite")
    ind07 = content.indicators.get("IND07")
    if ind07 is not None and isinstance(ind07.value, float) and ind07.value < listed:
        yield I.make(
            "collectivites-below-members",
            sheet=sname(L.SHEET_INDICATORS),
            cell=ind07.cell,
            column=L.IND_VALUE,
            value=display_number(ind07.value),
            other=listed,
        )


def _criteria(item: Item, sname):
    content = item.content
    for code, cell in content.criteria.items():
        if cell.value != "oui":
            continue
        why = content.justifications.get(code)
        if why is None or not why.value:
            yield I.make(
                "justification-missing",
                sheet=sname(L.SHEET_CRITERIA),
                cell=why.cell if why else cell.cell,
                column=L.CRIT_JUSTIFICATION,
                code=code,
            )


def _cross_period(item: Item, ctx: Context, sname, pole_id: str, period: int):
    if ctx.previous is None:
        return
    prev = ctx.previous(pole_id, period)
    if not prev:
        return
    prev_period, values = prev
    for code, cell in item.content.indicators.items():
        old, new = values.get(code), cell.value
        if not isinstance(new, float) or old is None or old <= 0 or new <= 0:
            continue
        if max(old, new) / min(old, new) > CHANGE_FACTOR:
            ind = ctx.ref.indicator_by_code[code]
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
