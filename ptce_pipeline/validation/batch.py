"""Validation of a batch of workbooks against the référentiel: the pandera schemas of
`schemas`, their failures turned into issues by `failures`, then the rules of `rules`
(registry, cross-sheet, previous period).

Many workbooks are validated together: one frame per sheet for the whole batch (one row per
workbook, or per member), one lazy pandera validation per frame, and each failure is mapped
back to its workbook and cell. Nothing is done per row unless pandera reported a failure there.
"""

from __future__ import annotations

import re
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.content import Content, display_number
from ptce_pipeline.validation.failures import failures, field_issue, indicator_issue
from ptce_pipeline.validation.model import Context, Item
from ptce_pipeline.validation.rules import business_rules
from ptce_pipeline.validation.schemas import CROSS, schemas_for

SHEET_ORDER = {name: i for i, name in enumerate(L.DATA_SHEETS)}


def validate_batch(items: list[Item], ctx: Context) -> list[list[I.Issue]]:
    """Validate many workbooks at once → the issues of each, in the order given."""
    result: list[list[I.Issue]] = [list(it.content.issues) for it in items]
    schemas = schemas_for(ctx.ref, ctx.today.year)
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
    for check, column, index in failures(schema, frame.astype(object)):
        k = int(index)
        cell = items[k].content.identity.get(column)
        if cell is not None:
            fld = ref.identity_by_key[column]
            sheet = sname(k, L.SHEET_IDENTITY)
            result[k].append(field_issue(check, fld, ctx, sheet, cell, L.ID_VALUE))


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
    for check, column, index in failures(schema, frame):
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
            result[k].append(field_issue(check, fld, ctx, sheet, cell, fld.label))


def _indicators(items, ks, ctx: Context, schema, sname, result) -> None:
    ref = ctx.ref
    frame = _wide(items, ks, "indicators", ref.indicator_by_code)
    if frame is None:
        return
    for check, column, index in failures(schema, frame.astype("float64")):
        k = int(index)
        content = items[k].content
        sheet = sname(k, L.SHEET_INDICATORS)
        rule = CROSS.get(check)
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
            result[k].append(indicator_issue(check, ind, sheet, cell.cell, cell.value))


def _criteria(items, ks, ctx: Context, schema, sname, result) -> None:
    ref = ctx.ref
    frame = _wide(items, ks, "criteria", ref.criterion_by_code)
    if frame is None:
        return
    labels = ref.lists["reponses_criteres"].labels
    answers = ", ".join(labels)
    either = " ou ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    for check, column, index in failures(schema, frame.astype(object)):
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
                allowed=either,
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
    """The status of a workbook: refused on any error, else accepted (with warnings or not)."""
    errors, warnings_ = I.counts(issues)
    if errors:
        return "refusee"
    return "acceptee_avec_avertissements" if warnings_ else "acceptee"
