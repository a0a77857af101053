"""Validation issues are data: file, sheet, cell, column, code, severity, message, value.

Codes are stable kebab-case English identifiers and are never renamed once shipped; their
messages are French and say what is wrong and how to fix it; the codes and their words are
the data of `catalogue.issue_catalogue` (re-exported here: `CATALOGUE`, `IssueType`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from typing import Any

from ptce_pipeline.catalogue.issue_catalogue import (  # the codes, their severities and words
    AVERTISSEMENT,
    CATALOGUE,
    ERREUR,
    SEVERITIES,
    IssueType,
    Variant,
)

__all__ = [
    "AVERTISSEMENT",
    "CATALOGUE",
    "ERREUR",
    "SEVERITIES",
    "Issue",
    "IssueType",
    "Variant",
    "counts",
    "guide_markdown",
    "has_errors",
    "make",
]

MAX_VALUE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Issue:
    code: str
    severity: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    column: str | None = None
    value: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def located(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or "classeur"

    def with_file(self, file: str) -> Issue:
        return replace(self, file=file)


MAX_PARAM_CHARS = 200


def _escape(text: str) -> str:
    """Control and other non-printable characters as visible escapes (\\x07, \\u200b)."""
    if text.isprintable():
        return text
    return "".join(_visible(ch) for ch in text)


def _visible(ch: str) -> str:
    if ch.isprintable():
        return ch
    if unicodedata.category(ch) == "Zs":  # no-break and thin spaces read as spaces
        return " "
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value: Any) -> str | None:
    """Escape control characters and shorten a cell value for reports."""
    if value is None:
        return None
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    else:
        text = value if isinstance(value, str) else str(value)
    return _cut(_escape(text), MAX_VALUE_CHARS)


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def make(
    code: str,
    /,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    column: str | None = None,
    value: Any = None,
    severity: str | None = None,
    variant: str | None = None,
    **params: Any,
) -> Issue:
    """Build an issue from the catalogue. `value` is the offending cell value (raw); it and
    every text parameter (which may come from the file: sheet names, labels) are escaped and
    shortened before they reach the message. `variant` names another wording of the message
    (`catalogue.advice` chooses it from the cell's rule)."""
    spec = CATALOGUE[code]
    template = spec.variants[variant].template if variant is not None else spec.template
    shown = _short(value)
    safe = {
        k: _cut(_escape(v), MAX_PARAM_CHARS) if isinstance(v, str) else v for k, v in params.items()
    }
    message = template.format_map(_Params({"value": shown if shown is not None else "", **safe}))
    return Issue(
        code=code,
        severity=severity or spec.severity,
        message=message,
        sheet=sheet,
        cell=cell,
        column=column,
        value=shown,
    )


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity == ERREUR for i in issues)


def counts(issues: list[Issue]) -> tuple[int, int]:
    errors = sum(1 for i in issues if i.severity == ERREUR)
    return errors, len(issues) - errors


# --------------------------------------------------------------------------------------------
# The French guide's list of codes (docs/guide.md) is generated from the catalogue; a test
# keeps the guide equal to this rendering.
GUIDE_GROUPS = {
    "empty-file": "Le fichier lui-même",
    "missing-sheet": "La structure du classeur",
    "required-value": "Les valeurs saisies",
    "pole-not-registered": "L'identité du pôle et le registre",
    "too-few-legal-persons": "Les membres",
    "jobs-created-above-direct": "Les indicateurs",
    "missing-answer": "Les critères",
}
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def guide_markdown() -> str:
    """Every code with its severity, title and message (placeholders shown as « … »)."""
    out: list[str] = []
    for code, spec in CATALOGUE.items():
        if code in GUIDE_GROUPS:
            out += [f"### {GUIDE_GROUPS[code]}", ""]
        effect = (
            "le classeur est refusé" if spec.severity == ERREUR else "n'empêche pas l'intégration"
        )
        out += [
            f"#### `{code}` — {spec.title}",
            "",
            f"*{spec.severity} : {effect}.* {_PLACEHOLDER.sub('…', spec.template)}",
            "",
        ]
        for variant in spec.variants.values():
            out += [
                f"*{variant.when.capitalize()} :* {_PLACEHOLDER.sub('…', variant.template)}",
                "",
            ]
    return "\n".join(out)
