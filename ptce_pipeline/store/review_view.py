"""The reviewer's view of one submission (issue 19), read from the analysts' snapshot: what it
is, what changed since the pole's previous submission for the same period and since its
previous period, its warnings with the pole's own comment beside each, and its history. The
comparing is `store.review_diff` (pure); the French terminal text is `store.review_text`.

What it is compared with:

- **the same period**: the version of that period the pole sent just before it and that was
  accepted (in force then, replaced since, withdrawn or withheld alike: what the pole declared
  last), i.e. the accepted submission of the same pole and period with the highest rank
  (`last_delivery_id`) below this one's;
- **the previous period**: the declaration in force for the pole's period − 1, the same one the
  `large-change` check reads (`store.previous.in_force`), so the warning and the diff agree
  (when the previous period's declaration changed after this submission was decided, the
  warnings were computed against the one recorded in `previous_submission_id`: the text says so).

A submission that was never accepted has no data in the warehouse: nothing is compared.

Contacts are personal and not in the snapshot: the view never shows them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ptce_pipeline.catalogue.referentiel import load_referentiel
from ptce_pipeline.catalogue.referentiel_model import Referentiel
from ptce_pipeline.store.previous import earlier_declarations
from ptce_pipeline.store.review_diff import MEMBER_FIELDS, Declaration, Labels, diff
from ptce_pipeline.store.review_text import view_lines


@dataclass
class ReviewView:
    """`facts`: the submission's row, its pole's name and counts; `changes`: the agreed shape
    (`store.review_diff`); `warnings`: each with the pole's comment; `history`: every delivery
    of the pole and period and every correction or review of them, oldest first. `compared`:
    what each comparison was against (`submission`/`period` → id and period, or None)."""

    facts: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    compared: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def plain(v):
            return v.isoformat() if hasattr(v, "isoformat") else v

        data = asdict(self)
        data["facts"] = {k: plain(v) for k, v in data["facts"].items()}
        data["history"] = [{k: plain(v) for k, v in h.items()} for h in data["history"]]
        return data

    def lines(self) -> list[str]:
        """The view in French, for the terminal (`store.review_text`)."""
        return view_lines(self)


def review_view(con, sid: int, ref: Referentiel | None = None) -> ReviewView | None:
    """The view of submission `sid` (None when the snapshot has no such submission). `ref`
    gives the French labels of identity and member fields and of code lists: pass the home's
    (`load_referentiel(settings.referentiel_path)`); without it, the packaged one's."""
    if ref is None:
        ref = load_referentiel()
    cur = con.execute(
        "SELECT s.*, p.nom AS pole_name FROM submissions s LEFT JOIN poles p USING (pole_id) "
        "WHERE submission_id = ?",
        [sid],
    )
    row = cur.fetchone()
    if row is None:
        return None
    facts = dict(zip([d[0] for d in cur.description], row, strict=True))
    pole, period = facts["pole_id"], facts["period"]
    labels = Labels(
        indicators=dict(con.execute("SELECT code, label FROM ref_indicators").fetchall()),
        criteria=dict(con.execute("SELECT code, label FROM ref_criteria").fetchall()),
        ref=ref,
    )
    current = _declaration(con, sid, period)
    facts.update(
        n_identity=len(current.identity),
        n_indicators=sum(1 for v in current.indicators.values() if v[0] is not None),
        n_members=len(current.members),
        n_criteria=sum(1 for c in current.criteria.values() if c.get("answer")),
    )
    view = ReviewView(facts, warnings=_warnings(con, sid, labels))
    view.history = _history(con, sid, pole, period)
    if pole is None or period is None or facts.get("accepted_status") is None:
        view.compared = {"submission": None, "period": None}
        return view
    earlier = {
        "submission": _previous_same_period(con, facts),
        "period": _earlier(con, pole, period),
    }
    for against, other in earlier.items():
        if other is None:
            view.compared[against] = None
            continue
        view.compared[against] = {"submission_id": other[0], "period": other[1]}
        view.changes += diff(current, _declaration(con, *other), against, labels)
    return view


def _previous_same_period(con, facts: dict[str, Any]) -> tuple[int, int] | None:
    rank = facts.get("last_delivery_id") or facts["submission_id"]
    row = con.execute(
        "SELECT submission_id, period FROM submissions WHERE pole_id = ? AND period = ? "
        "AND submission_id <> ? AND accepted_status IS NOT NULL "
        "AND coalesce(last_delivery_id, submission_id) < ? "
        "ORDER BY coalesce(last_delivery_id, submission_id) DESC LIMIT 1",
        [facts["pole_id"], facts["period"], facts["submission_id"], rank],
    ).fetchone()
    return None if row is None else (row[0], row[1])


def _earlier(con, pole: str, period: int) -> tuple[int, int] | None:
    """The pole's earlier declaration: the one in force for the latest period before `period`
    (`store.previous.earlier_declarations`, the rule of the `large-change` check and of the
    pre-filled workbook's reference column)."""
    found = earlier_declarations(con, {(pole, period)}).get((pole, period))
    return None if found is None else (found[1], found[0])


def _declaration(con, sid: int, period: int | None) -> Declaration:
    d = Declaration(sid, period)
    for key, value, sheet, cell in con.execute(
        "SELECT field, value, sheet, cell FROM identity_values WHERE submission_id = ? "
        "ORDER BY sheet, length(cell), cell",
        [sid],
    ).fetchall():
        d.identity[key] = (value, sheet, cell)
    for code, value, sheet, cell in con.execute(
        "SELECT v.indicator_code, v.value, v.sheet, v.cell FROM indicator_values v "
        "LEFT JOIN ref_indicators r ON r.code = v.indicator_code WHERE v.submission_id = ? "
        "ORDER BY coalesce(r.position, 1000000), v.indicator_code",
        [sid],
    ).fetchall():
        d.indicators[code] = (value, sheet, cell)
    cols = ", ".join(MEMBER_FIELDS)
    cur = con.execute(
        f"SELECT {cols}, sheet, row_number, columns FROM members WHERE submission_id = ? "
        "ORDER BY member_no",
        [sid],
    )
    names = [c[0] for c in cur.description]
    for r in cur.fetchall():
        member = dict(zip(names, r, strict=True))
        member["columns"] = json.loads(member["columns"] or "{}")
        d.members.append(member)
    for code, answer, why, sheet, cell, why_cell in con.execute(
        "SELECT c.criterion_code, c.answer, c.justification, c.sheet, c.cell, "
        "c.justification_cell FROM criteria_answers c "
        "LEFT JOIN ref_criteria r ON r.code = c.criterion_code WHERE c.submission_id = ? "
        "ORDER BY coalesce(r.position, 1000000), c.criterion_code",
        [sid],
    ).fetchall():
        d.criteria[code] = {
            "answer": answer,
            "justification": why,
            "sheet": sheet,
            "cell": cell,
            "justification_cell": why_cell,
        }
    return d


def _row_of(cell: str | None) -> str | None:
    digits = "".join(ch for ch in (cell or "") if ch.isdigit())
    return digits or None


def _warnings(con, sid: int, labels: Labels) -> list[dict[str, Any]]:
    """The submission's warnings, each with the pole's « Source ou commentaire » of the
    indicator it is about: the indicator at that cell, else on that row of the same sheet."""
    rows = con.execute(
        "SELECT indicator_code, comment, sheet, cell FROM indicator_values WHERE submission_id = ?",
        [sid],
    ).fetchall()
    by_cell = {(sheet, cell): (code, comment) for code, comment, sheet, cell in rows}
    by_row = {(sheet, _row_of(cell)): (code, comment) for code, comment, sheet, cell in rows}
    out = []
    for sheet, cell, column, code, message, value in con.execute(
        "SELECT sheet, cell, column_name, code, message, value FROM validation_issues "
        "WHERE submission_id = ? AND severity = 'avertissement' ORDER BY seq",
        [sid],
    ).fetchall():
        found = by_cell.get((sheet, cell)) or by_row.get((sheet, _row_of(cell)))
        indicator, comment = found if found else (None, None)
        out.append(
            {
                "sheet": sheet,
                "cell": cell,
                "column": column,
                "code": code,
                "message": message,
                "value": value,
                "indicator": indicator,
                "indicator_label": labels.indicators.get(indicator) if indicator else None,
                "pole_comment": comment or None,
            }
        )
    return out


def _history(con, sid: int, pole: str | None, period: int | None) -> list[dict[str, Any]]:
    """Every delivery of the pole for the period (with the receipt it got) and every
    correction and review of those submissions (who, when, why), oldest first. A file whose
    period could not be read goes with the pole's other such files; one from no known pole
    has its own history only."""
    if pole is None:
        subs = [sid]
    else:
        subs = [
            r[0]
            for r in con.execute(
                "SELECT submission_id FROM submissions WHERE pole_id = ? "
                "AND period IS NOT DISTINCT FROM ?",
                [pole, period],
            ).fetchall()
        ]
    entries: list[tuple[Any, int, dict[str, Any]]] = []
    for did, at, name, outcome, s, status, receipt in con.execute(
        "SELECT d.delivery_id, d.received_at, d.original_name, d.outcome, d.submission_id, "
        "s.status, s.feedback_receipt FROM deliveries d JOIN submissions s USING (submission_id) "
        "WHERE d.submission_id IN (SELECT unnest(?)) ORDER BY d.delivery_id",
        [subs],
    ).fetchall():
        entries.append(
            (
                at,
                did,
                {
                    "done_at": at,
                    "by_user": pole,
                    "action": "delivery",
                    "reason": None,
                    "submission_id": s,
                    "original_name": name,
                    "outcome": outcome,
                    "status": status,
                    "details": None,
                    "notice": _basename(receipt) if outcome == "nouvelle" else None,
                    "current": s == sid,
                },
            )
        )
    for aid, at, by, action, s, reason, details in con.execute(
        "SELECT audit_id, done_at, by_user, action, submission_id, reason, details FROM audit "
        "WHERE submission_id IN (SELECT unnest(?)) "
        "OR (submission_id IS NULL AND (period = ? OR action = 'review_migration')) "
        "ORDER BY audit_id",
        [subs, period],
    ).fetchall():
        info = json.loads(details) if details else None
        if action == "review_migration" and not set((info or {}).get("submissions", ())) & set(
            subs
        ):
            continue
        entries.append(
            (
                at,
                aid,
                {
                    "done_at": at,
                    "by_user": by,
                    "action": action,
                    "reason": reason,
                    "submission_id": s,
                    "original_name": None,
                    "outcome": None,
                    "status": None,
                    "details": info,
                    "notice": "relecture" if action == "review" else None,
                    "current": s == sid,
                },
            )
        )
    entries.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in entries]


def _basename(path: str | None) -> str | None:
    return path.rsplit("/", 1)[-1] if path else None
