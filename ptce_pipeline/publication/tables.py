"""The table model shared by every national table: raw values (what goes to xlsx, CSV and
Parquet), a description of the columns (French headers, value kinds, masking) and the French
text of each cell (`display`). `render.render_html` writes the HTML.

Helper columns of a frame start with "_":
`_group` (row group label), `_secret` (the row rests on fewer than 3 poles), `_kind` (value
kind of a row, for columns of kind "row"), `_total` (an "Ensemble" row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import fmt as F

BLUE = "#000091"  # bleu France: 15:1 against white
BLUE_LIGHT = "#ececfe"
GREY_TEXT = "#3a3a3a"  # 11:1 against white
SECRET_TEXT = "#666666"  # 5.7:1 against white
NUMERIC = ("id", "int", "count", "euros", "fte", "percent", "share", "scale", "score", "num", "m2")
TEXT = ("text", "fraction", "code")  # shown and exported as text


@dataclass(frozen=True)
class Col:
    key: str  # column of the frame, also its French header in xlsx/CSV/Parquet
    kind: str = "text"  # text, a value kind (see fmt), "row" (kind of the row), "plot", "evol",
    # "fraction" (text such as « 4/8 », aligned as a number), "code" (one of our codes, shown
    # in <code>)
    label: str | None = None  # HTML header, when shorter than the export header
    secret: bool = False  # masked when the row rests on fewer than 3 poles
    secret_by: str = "_secret"  # the helper column that says so
    spanner: str | None = None
    html: bool = True
    export: bool = True

    @property
    def header(self) -> str:
        return self.label or self.key

    @property
    def numeric(self) -> bool:
        """Aligned right, in tabular figures."""
        return self.kind in (*NUMERIC, "row", "evol", "fraction")


@dataclass
class Table:
    key: str  # id of the HTML table, stem of the CSV/Parquet files
    page: str  # the HTML page (stem) that shows it
    title: str
    subtitle: str
    frame: pd.DataFrame
    cols: list[Col]
    sheet: str  # xlsx sheet name (≤ 31 characters)
    stub: str | None = None  # the column that heads each row
    notes: list[str] = field(default_factory=list)
    masking: bool = True  # whether the secret rule applies to this table
    link_poles: frozenset[str] = frozenset()  # pole ids (stub cells) linked to their fiche
    in_html: bool = True  # False: data behind the fiches, exported only
    in_xlsx: bool = True  # False: a long data file (CSV and Parquet only)
    empty: str = "Aucune donnée pour cette période."  # shown instead of a table with no row
    classes: dict[str, list[str]] = field(default_factory=dict)  # column → class of each cell
    fast: bool = False  # one row per pole: written without great-tables (cheap at any size)

    @property
    def export_cols(self) -> list[Col]:
        return [c for c in self.cols if c.export]

    @property
    def html_cols(self) -> list[Col]:
        return [c for c in self.cols if c.html]

    def values(self, key: str) -> list:
        """A column as a plain list (cached: cell-by-cell access to a frame is slow)."""
        cache = self.__dict__.setdefault("_lists", {})
        if key not in cache:
            cache[key] = self.frame[key].tolist() if key in self.frame else None
        return cache[key]

    def row_kind(self, col: Col, i: int) -> str:
        return str(self.values("_kind")[i]) if col.kind == "row" else col.kind

    def is_secret(self, col: Col, i: int) -> bool:
        if not col.secret:
            return False
        flags = self.values(col.secret_by)
        return bool(flags[i]) if flags is not None else False


def display(table: Table, col: Col, i: int) -> str:
    """The French text of one cell."""
    value = table.values(col.key)[i]
    if table.is_secret(col, i):
        return F.SECRET
    if col.kind in TEXT:
        return F.MISSING if F.is_missing(value) else str(value)
    if col.kind == "date":
        return F.short_date(value)
    if col.kind == "evol":
        return F.signed(value, table.values("_evol_kind")[i])
    return F.number(value, table.row_kind(col, i))


PLOT_POINTS = 50  # above this many poles a nanoplot shows quantiles, not every pole


def plot_values(values) -> list[float]:
    """What a nanoplot draws: every value (sorted) up to PLOT_POINTS poles, otherwise
    PLOT_POINTS evenly spaced quantiles (readable, and cheap for thousands of poles)."""
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    if n <= PLOT_POINTS:
        return ordered
    out = []
    for j in range(PLOT_POINTS):
        pos = j * (n - 1) / (PLOT_POINTS - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        out.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
    return out


def heat(score: Any) -> tuple[str, str] | None:
    """Background and text colours for a 0–100 score, in ten steps: orange below 50, blue
    above (diverging around the national median), text colour chosen for contrast."""
    if F.is_missing(score):
        return None
    step = min(9, int(max(0.0, float(score)) // 10))  # 0..9
    t = abs(step - 4.5) / 4.5
    end = (0, 0, 145) if step >= 5 else (179, 64, 0)
    while True:  # darken a mid tone until one of the two text colours reads at 4.5:1
        rgb = tuple(round(255 + (e - 255) * t) for e in end)
        fill = "#{:02x}{:02x}{:02x}".format(*rgb)
        text = max(("#ffffff", "#161616"), key=lambda c: contrast(fill, c))
        if contrast(fill, text) >= 4.5 or t >= 1:
            return fill, text
        t = min(1.0, t + 0.02)


def _luminance(colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (RGAA asks 4.5:1 for text)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def heat_class(score: Any) -> str:
    """The class of a 0–100 score cell: h0 … h9 (see `CLASS_STYLES`)."""
    if F.is_missing(score):
        return ""
    return f"h{min(9, int(max(0.0, float(score)) // 10))}"


ALERT = ("#ce0500", True)  # 4.9:1 against white
CLASS_STYLES: dict[str, tuple[str | None, str, bool]] = {  # class → (fill, text colour, bold)
    "alerte": (None, ALERT[0], ALERT[1]),
    **{f"h{k}": (*heat(k * 10 + 5), False) for k in range(10)},  # type: ignore[misc]
}


def class_css() -> str:
    """The same cell classes for the tables written without great-tables."""
    out = []
    for name, (fill, text, bold) in CLASS_STYLES.items():
        rule = (f"background:{fill};" if fill else "") + f"color:{text};"
        out.append(f"table.simple td.{name}{{{rule}{'font-weight:700;' if bold else ''}}}")
    return "\n".join(out)
