"""The advice of a message follows the rule of the cell it is about: a required cell is never
told it may stay empty, an integer field is never shown a decimal example, an example is always
inside the field's bounds. `rule_of` reads the rule of a field or an indicator from the
référentiel; `advise` turns it into the catalogue variant and the parameters of a message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ptce_pipeline.catalogue.referentiel_model import Field, Indicator, Referentiel

YEAR_MIN = 1900  # the earliest year a year field accepts when the référentiel sets none
PERIOD_MIN = 2010  # the earliest period (the PTCE experimentation's first campaigns)
REQUIRED = "obligatoire"  # the variant of a message for a cell that may not stay empty
INTEGER = "entier"  # the variant of a message for a field of whole numbers
UNITLESS = "sans-unite"  # the variant of a message for a count or a level: no unit to check
NUMERIC = frozenset({"count", "euros", "fte", "percent", "m2", "scale"})


@dataclass(frozen=True)
class CellRule:
    """What a cell accepts: required or not, whole numbers or not, its bounds (a year field
    whose `max` is None accepts up to the current year)."""

    required: bool
    kind: str
    integer: bool = False
    min: float | None = None
    max: float | None = None
    unit: str = ""

    def accepts(self, value: float) -> bool:
        if self.integer and not float(value).is_integer():
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


def indicator_rule(ind: Indicator) -> CellRule:
    return CellRule(ind.required, ind.kind, ind.integer, ind.min, ind.max, ind.unit)


def field_rule(ref: Referentiel, fld: Field) -> CellRule:
    """An identity or member field's rule: its bounds, else its kind's (years: from 1900, periods
    from 2010, up to the current year)."""
    if fld.kind in ("year", "period"):
        low = fld.min if fld.min is not None else (YEAR_MIN if fld.kind == "year" else PERIOD_MIN)
        return CellRule(fld.required, fld.kind, True, low, fld.max)
    k = ref.kinds.get(fld.kind)
    if k is None:
        return CellRule(fld.required, fld.kind)
    low = fld.min if fld.min is not None else k.min
    high = fld.max if fld.max is not None else k.max
    return CellRule(fld.required, fld.kind, k.integer, low, high, k.unit)


def rule_of(ref: Referentiel, item: Any) -> CellRule | None:
    """The rule of an identity or member field, or of an indicator (None for anything else)."""
    if isinstance(item, Indicator):
        return indicator_rule(item)
    if isinstance(item, Field):
        return field_rule(ref, item)
    return None


def number(value: float) -> str:
    """A number as a French reader writes it: 12, 12,5, 1 250."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")


def examples(rule: CellRule) -> list[float]:
    """One or two values the rule accepts, to show what to type (12 and 12,5 when allowed)."""
    wanted = [12.0] if rule.integer else [12.0, 12.5]
    if all(rule.accepts(v) for v in wanted):
        return wanted
    low = rule.min if rule.min is not None else (rule.max - 10 if rule.max is not None else 0)
    high = rule.max if rule.max is not None else low + 10
    middle = math.floor((low + high) / 2)
    if not rule.integer and rule.accepts(middle + 0.5):
        return [float(middle), middle + 0.5] if rule.accepts(middle) else [middle + 0.5]
    found = [float(v) for v in (middle, math.ceil(low), math.floor(high)) if rule.accepts(v)]
    return found[:1]


def example_text(rule: CellRule) -> str:
    shown = " ou ".join(number(v) for v in examples(rule))
    if rule.required and rule.accepts(0) and rule.kind != "percent":
        shown += ", ou 0 si la réponse est « aucun »"
    return shown


def year_bounds_text(low: int, high: int | None) -> str:
    last = str(high) if high is not None else "l'année en cours"
    return f"entre {low} et {last}"


def required_hint(rule: CellRule) -> str:
    """What to type in an empty required indicator."""
    if rule.kind == "percent":
        return f"un pourcentage, par exemple {example_text(rule)}"
    hint = (
        "0 si la réponse est « aucun »" if rule.accepts(0) else f"par exemple {example_text(rule)}"
    )
    return f"{hint}, en {rule.unit}" if rule.unit and rule.kind not in ("count", "scale") else hint


def advise(code: str, rule: CellRule, params: dict[str, Any]) -> tuple[str | None, dict]:
    """→ (the catalogue variant, the message's parameters) for an issue of `code` on a cell of
    `rule`; `params` are those the issue already has (the validation's year bounds, which know
    the current year, are kept)."""
    out = dict(params)
    variant = None
    if code == "not-a-number":
        out["expected"] = "un nombre entier" if rule.integer else "un nombre"
        out["example"] = example_text(rule)
        variant = REQUIRED if rule.required else None
    elif code == "ambiguous-number":
        alt = _float(str(params.get("alt", "")).replace(",", "."))
        if rule.integer or alt is None or not rule.accepts(alt):
            variant = INTEGER
    elif code == "invalid-year":
        high = int(rule.max) if rule.max is not None else None  # None: the current year
        out.setdefault("bounds", year_bounds_text(int(rule.min or YEAR_MIN), high))
    elif code == "required-value" and rule.kind in NUMERIC:
        out["hint"] = required_hint(rule)
    elif code == "out-of-range":
        variant = UNITLESS if rule.kind in ("count", "scale") else None
    elif code == "implausible-fill-date":
        variant = REQUIRED if rule.required else None
    return variant, out


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
