"""A workbook's content and issues as warehouse rows, each carrying its submission and the
cell it came from (value-level lineage). DataFrame inserts, for speed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.content.model import Content

DATA_TABLES = ("identity_values", "contacts", "members", "indicator_values", "criteria_answers")
ROW_TABLES = (*DATA_TABLES, "validation_issues")

# a member's own fields (the columns of the `members` table a pole fills)
MEMBER_FIELDS = (
    "nom",
    "siret",
    "categorie",
    "forme_juridique",
    "commune",
    "annee_adhesion",
    "etp",
)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "identity_values": ("submission_id", "field", "value", "sheet", "cell"),
    "contacts": ("submission_id", "field", "value", "sheet", "cell"),
    "members": (
        "submission_id",
        "member_no",
        *MEMBER_FIELDS,
        "sheet",
        "row_number",
        "columns",
    ),
    "indicator_values": ("submission_id", "indicator_code", "value", "comment", "sheet", "cell"),
    "criteria_answers": (
        "submission_id",
        "criterion_code",
        "answer",
        "justification",
        "sheet",
        "cell",
        "justification_cell",
    ),
    "validation_issues": (
        "submission_id",
        "seq",
        "sheet",
        "cell",
        "column_name",
        "code",
        "severity",
        "message",
        "value",
    ),
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def issue_rows(sid: int, issues: list[I.Issue]) -> list[tuple]:
    return [
        (sid, n, i.sheet, i.cell, i.column, i.code, i.severity, i.message, i.value)
        for n, i in enumerate(issues, start=1)
    ]


def issues_from_rows(rows: list[tuple]) -> list[I.Issue]:
    """`validation_issues` rows (in the column order above) back to issues."""
    return [
        I.Issue(
            code=r[5],
            severity=r[6],
            message=r[7],
            sheet=r[2],
            cell=r[3],
            column=r[4],
            value=r[8],
        )
        for r in sorted(rows, key=lambda r: r[1])
    ]


def data_rows(
    sid: int, content: Content | None, personal: frozenset[str]
) -> dict[str, list[tuple]]:
    """The pole's data of one accepted workbook, table by table."""
    out: dict[str, list[tuple]] = {t: [] for t in DATA_TABLES}
    if content is None:
        return out
    ident_sheet = content.sheet_names.get("Identité", "Identité")
    for key, cell in content.identity.items():
        table = "contacts" if key in personal else "identity_values"
        out[table].append((sid, key, _text(cell.value), ident_sheet, cell.cell))
    mem_sheet = content.sheet_names.get("Membres", "Membres")
    columns = json.dumps(content.member_columns, sort_keys=True)
    for n, (member, row) in enumerate(
        zip(content.members, content.member_rows, strict=True), start=1
    ):

        def v(key, member=member):
            cell = member.get(key)
            return None if cell is None else cell.value

        year = v("annee_adhesion")
        etp = v("etp")
        out["members"].append(
            (
                sid,
                n,
                v("nom"),
                v("siret"),
                v("categorie"),
                v("forme_juridique"),
                v("commune"),
                year if isinstance(year, int) else None,
                etp if isinstance(etp, float) else None,
                mem_sheet,
                row,
                columns,
            )
        )
    ind_sheet = content.sheet_names.get("Indicateurs", "Indicateurs")
    for code, cell in content.indicators.items():
        comment = content.indicator_comments.get(code)
        value = cell.value if isinstance(cell.value, float) else None
        out["indicator_values"].append(
            (sid, code, value, comment.value if comment else None, ind_sheet, cell.cell)
        )
    crit_sheet = content.sheet_names.get("Critères", "Critères")
    for code, cell in content.criteria.items():
        why = content.justifications.get(code)
        out["criteria_answers"].append(
            (
                sid,
                code,
                _text(cell.value),
                why.value if why else None,
                crit_sheet,
                cell.cell,
                why.cell if why else None,
            )
        )
    return out


def append_rows(con, table: str, rows: list[tuple]) -> None:
    import pandas as pd

    append_frame(con, table, pd.DataFrame(rows, columns=list(TABLE_COLUMNS[table])))


def append_frame(con, table: str, frame) -> None:
    con.register("_ptce_frame", frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _ptce_frame")
    finally:
        con.unregister("_ptce_frame")
