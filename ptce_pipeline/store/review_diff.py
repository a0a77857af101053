"""What changed between two declarations of a pole, for the reviewer (issue 19): pure functions
over rows already read from the snapshot by `store.review_view`, no DuckDB.

A change is one dict of the shape agreed for the review pages (docs/conventions.md, « The
reviewer's view »): what it is compared with (`against`: the pole's previous submission for the
same period, or its previous period), what changed (`kind`: identity field, indicator value,
member, criterion; `change`: added, removed, changed), its key and French label, the member's or
criterion's field that changed, the sheet and cell of the value, and the values before and after
as the reviewer reads them (French numbers, code lists' labels). The cell is the one of the
submission under review, except for what is no longer there at all (a removed member): that
cell is in the earlier file.

Members are matched by SIRET first, then by name with accents, case and spaces folded: a member
whose SIRET changed but whose name did not is one member with a changed SIRET, not one removed
and one added. A member that only moved to another row has not changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.catalogue.referentiel_model import Referentiel, fold
from ptce_pipeline.content import display_number
from ptce_pipeline.store.pole_rows import MEMBER_FIELDS

ANSWERS = "reponses_criteres"  # the code list of the criteria's answers
# identity fields whose change is expected between two periods
PERIOD_FIELDS = frozenset({"periode"})


@dataclass
class Declaration:
    """The content of one submission, as the snapshot holds it (no personal data)."""

    submission_id: int
    period: int
    identity: dict[str, tuple[str | None, str, str]] = field(default_factory=dict)
    indicators: dict[str, tuple[float | None, str, str]] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)  # + sheet, row_number, columns
    criteria: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Labels:
    """French labels: indicators and criteria from the warehouse's reference tables, fields and
    code lists from the référentiel (a code shown as it is when the référentiel lacks it)."""

    indicators: dict[str, str] = field(default_factory=dict)
    criteria: dict[str, str] = field(default_factory=dict)
    ref: Referentiel | None = None

    def identity(self, key: str) -> str:
        f = self.ref.identity_by_key.get(key) if self.ref else None
        return f.label if f else key

    def member_field(self, key: str) -> str:
        f = self.ref.member_by_key.get(key) if self.ref else None
        return f.label if f else key

    def code(self, liste: str | None, value: str | None) -> str | None:
        if value is None or liste is None or self.ref is None or liste not in self.ref.lists:
            return value
        return self.ref.lists[liste].label_of(value) or value


def number(value: Any) -> str | None:
    """A number as a French reader writes it (1 234,5); None stays None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return display_number(float(value))
    return str(value)


def member_value(labels: Labels, key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if key == "annee_adhesion":
        return str(int(value))
    if key == "etp":
        return number(value)
    f = labels.ref.member_by_key.get(key) if labels.ref else None
    return labels.code(f.liste if f else None, str(value))


def identity_value(labels: Labels, key: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    f = labels.ref.identity_by_key.get(key) if labels.ref else None
    return labels.code(f.liste if f else None, value)


def siret_key(value: Any) -> str | None:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits or None


def name_key(value: Any) -> str | None:
    return fold(value) if value else None


def match_members(
    current: list[dict[str, Any]], earlier: list[dict[str, Any]]
) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """→ (matched pairs (current, earlier), added (current only), removed (earlier only)):
    by SIRET first, then by folded name among those still unmatched."""
    left = list(range(len(earlier)))
    pairs: dict[int, int] = {}
    for keyfn in (lambda m: siret_key(m.get("siret")), lambda m: name_key(m.get("nom"))):
        for i, m in enumerate(current):
            if i in pairs or keyfn(m) is None:
                continue
            j = next((j for j in left if keyfn(earlier[j]) == keyfn(m)), None)
            if j is not None:
                pairs[i] = j
                left.remove(j)
    matched = [(current[i], earlier[pairs[i]]) for i in sorted(pairs)]
    added = [m for i, m in enumerate(current) if i not in pairs]
    return matched, added, [earlier[j] for j in left]


def _member_cell(member: dict[str, Any], key: str) -> str | None:
    column = (member.get("columns") or {}).get(key)
    return f"{column}{member['row_number']}" if column and member.get("row_number") else None


def _member_summary(labels: Labels, member: dict[str, Any]) -> str:
    siret = member_value(labels, "siret", member.get("siret"))
    name = member.get("nom") or "(sans nom)"
    return f"{name} (SIRET {siret})" if siret else name


class _Diff:
    def __init__(self, against: str, earlier: Declaration, labels: Labels) -> None:
        self.base = {
            "against": against,
            "against_id": earlier.submission_id,
            "against_period": earlier.period,
        }
        self.labels = labels
        self.out: list[dict[str, Any]] = []

    def add(self, kind, key, label, fld, sheet, cell, before, after) -> None:
        if before == after:
            return
        change = "added" if before is None else "removed" if after is None else "changed"
        self.out.append(
            {
                **self.base,
                "kind": kind,
                "change": change,
                "key": key,
                "label": label,
                "field": fld,
                "sheet": sheet,
                "cell": cell,
                "before": before,
                "after": after,
            }
        )


def _where(now: tuple | None, then: tuple | None) -> tuple[str | None, str | None]:
    """(sheet, cell) of a value: in the current file, else (no longer there) the earlier one."""
    src = now if now is not None else then
    return (src[1], src[2]) if src else (None, None)


def diff(
    current: Declaration, earlier: Declaration, against: str, labels: Labels
) -> list[dict[str, Any]]:
    """Every change from `earlier` to `current`, in the workbook's order: identity, indicators,
    members, criteria (`against`: "submission" or "period")."""
    d = _Diff(against, earlier, labels)
    skip = PERIOD_FIELDS if against == "period" else frozenset()
    for key in _ordered(current.identity, earlier.identity):
        if key in skip:
            continue
        now, then = current.identity.get(key), earlier.identity.get(key)
        before = identity_value(labels, key, then[0]) if then else None
        after = identity_value(labels, key, now[0]) if now else None
        d.add("identity", key, labels.identity(key), None, *_where(now, then), before, after)
    for code in _ordered(current.indicators, earlier.indicators):
        now, then = current.indicators.get(code), earlier.indicators.get(code)
        before, after = number(then[0] if then else None), number(now[0] if now else None)
        label = labels.indicators.get(code, code)
        d.add("value", code, label, None, *_where(now, then), before, after)
    _members(d, current.members, earlier.members)
    _criteria(d, current.criteria, earlier.criteria)
    return d.out


def _ordered(a: dict, b: dict) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _members(d: _Diff, current: list[dict], earlier: list[dict]) -> None:
    labels = d.labels
    matched, added, removed = match_members(current, earlier)
    for now, then in matched:
        key = siret_key(now.get("siret")) or now.get("nom")
        for f in MEMBER_FIELDS:
            before = member_value(labels, f, then.get(f))
            after = member_value(labels, f, now.get(f))
            label = now.get("nom") or then.get("nom")
            d.add("member", key, label, f, now.get("sheet"), _member_cell(now, f), before, after)
    for m in added:
        key = siret_key(m.get("siret")) or m.get("nom")
        summary = _member_summary(labels, m)
        cell = _member_cell(m, "nom")
        d.add("member", key, m.get("nom"), None, m.get("sheet"), cell, None, summary)
    for m in removed:
        key = siret_key(m.get("siret")) or m.get("nom")
        summary = _member_summary(labels, m)
        cell = _member_cell(m, "nom")
        d.add("member", key, m.get("nom"), None, m.get("sheet"), cell, summary, None)


def _criteria(d: _Diff, current: dict[str, dict], earlier: dict[str, dict]) -> None:
    labels = d.labels
    for code in _ordered(current, earlier):
        now, then = current.get(code) or {}, earlier.get(code) or {}
        label = labels.criteria.get(code, code)
        for f, cell_key in (("answer", "cell"), ("justification", "justification_cell")):
            raw_before, raw_after = then.get(f) or None, now.get(f) or None
            if f == "answer":
                before, after = labels.code(ANSWERS, raw_before), labels.code(ANSWERS, raw_after)
            else:
                before, after = raw_before, raw_after
            src = now or then
            d.add("criterion", code, label, f, src.get("sheet"), src.get(cell_key), before, after)
