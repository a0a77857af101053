"""The table model shared by every national table, and its great-tables rendering.

A `Table` holds raw values (what goes to xlsx, CSV and Parquet) and a description of its
columns; `render_html` turns it into an accessible great-tables table: fixed id, a <caption>,
header scopes (great-tables gives `scope` and `headers`), French numbers, masked cells.

Pole text is never passed through markdown or raw-HTML formatters: every body cell is plain
text, which great-tables ≥ 1.0 escapes. Helper columns of a frame start with "_":
`_group` (row group label), `_secret` (the row rests on fewer than 3 poles), `_kind` (value
kind of a row, for columns of kind "row"), `_total` (an "Ensemble" row).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from great_tables import GT, loc, nanoplot_options, style

from . import fmt as F

BLUE = "#000091"  # bleu France: 15:1 against white
BLUE_LIGHT = "#ececfe"
GREY_TEXT = "#3a3a3a"  # 11:1 against white
SECRET_TEXT = "#666666"  # 5.7:1 against white
NUMERIC = ("id", "int", "count", "euros", "fte", "percent", "share", "scale", "score", "num", "m2")


@dataclass(frozen=True)
class Col:
    key: str  # column of the frame, also its French header in xlsx/CSV/Parquet
    kind: str = "text"  # text, a value kind (see fmt), "row" (kind of the row), "plot", "evol"
    label: str | None = None  # HTML header, when shorter than the export header
    secret: bool = False  # masked when the row rests on fewer than 3 poles
    secret_by: str = "_secret"  # the helper column that says so
    spanner: str | None = None
    html: bool = True
    export: bool = True

    @property
    def header(self) -> str:
        return self.label or self.key


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
    styler: Callable[..., GT] | None = None  # (gt, table, column ids) → gt

    @property
    def export_cols(self) -> list[Col]:
        return [c for c in self.cols if c.export]

    @property
    def html_cols(self) -> list[Col]:
        return [c for c in self.cols if c.html]

    def row_kind(self, col: Col, i: int) -> str:
        return str(self.frame["_kind"].iat[i]) if col.kind == "row" else col.kind

    def is_secret(self, col: Col, i: int) -> bool:
        flag = col.secret_by
        return bool(col.secret and flag in self.frame and self.frame[flag].iat[i])


def display(table: Table, col: Col, i: int) -> str:
    """The French text of one cell."""
    value = table.frame[col.key].iat[i]
    if table.is_secret(col, i):
        return F.SECRET
    if col.kind == "text":
        return F.MISSING if F.is_missing(value) else str(value)
    if col.kind == "date":
        return F.short_date(value)
    if col.kind == "evol":
        kind = table.frame["_evol_kind"].iat[i]
        return F.signed(value, kind)
    return F.number(value, table.row_kind(col, i))


def _plot_cell(table: Table, col: Col, i: int) -> str:
    if table.is_secret(col, i):
        return F.SECRET
    values = table.frame[col.key].iat[i]
    if values is None or len(values) == 0:
        return F.MISSING
    return " ".join(repr(float(v)) for v in values)


def _fr_compact(value: float) -> str:
    """Nanoplot hover labels: short French numbers (12,3 k ; 4,5 M)."""
    for bound, suffix in ((1e9, "\u00a0Md"), (1e6, "\u00a0M"), (1e3, "\u00a0k")):
        if abs(value) >= bound:
            return F.number(value / bound, "num", 1) + suffix
    return F.number(value, "num", 0 if float(value).is_integer() else 1)


def _frame_for_gt(table: Table) -> tuple[pd.DataFrame, dict[str, str]]:
    cols = table.html_cols
    ids = {c.key: f"c{n}" for n, c in enumerate(cols)}  # ASCII column names for great-tables
    rows = range(len(table.frame))
    out = {}
    for c in cols:
        render = _plot_cell if c.kind == "plot" else display
        out[ids[c.key]] = [render(table, c, i) for i in rows]
    frame = pd.DataFrame(out)
    if "_group" in table.frame:
        frame["_group"] = list(table.frame["_group"])
    return frame, ids


def render_html(table: Table) -> str:
    frame, ids = _frame_for_gt(table)
    gt = GT(
        frame,
        id=table.key,
        rowname_col=ids[table.stub] if table.stub else None,
        groupname_col="_group" if "_group" in frame else None,
        locale="fr",
    )
    gt = gt.cols_label(**{ids[c.key]: c.header for c in table.html_cols})
    if table.stub:
        gt = gt.tab_stubhead(label=next(c.header for c in table.cols if c.key == table.stub))
    numeric = [ids[c.key] for c in table.html_cols if c.kind in (*NUMERIC, "row", "evol")]
    if numeric:
        gt = gt.cols_align("right", columns=numeric)
    spanners: dict[str, list[str]] = {}
    for c in table.html_cols:
        if c.spanner:
            spanners.setdefault(c.spanner, []).append(ids[c.key])
    for n, (label, columns) in enumerate(spanners.items()):
        gt = gt.tab_spanner(label=label, columns=columns, id=f"sp{n}")
    for c in table.html_cols:
        if c.kind != "plot":
            continue
        rows = [i for i in range(len(frame)) if frame[ids[c.key]].iat[i] not in (F.SECRET, "—")]
        if rows:
            gt = gt.fmt_nanoplot(
                columns=ids[c.key],
                rows=rows,
                plot_type="bar",
                reference_line="median",
                options=nanoplot_options(
                    data_bar_fill_color="#6a6af4",
                    data_bar_stroke_color="#000091",
                    reference_line_color="#b34000",
                    y_val_fmt_fn=_fr_compact,
                    y_axis_fmt_fn=_fr_compact,
                    y_ref_line_fmt_fn=_fr_compact,
                ),
                alt="Répartition des valeurs déclarées, un trait par pôle, ligne orange : médiane",
            )
    secret_cells = [
        (ids[c.key], i) for c in table.html_cols for i in range(len(frame)) if table.is_secret(c, i)
    ]
    for col_id in sorted({c for c, _ in secret_cells}):
        rows = [i for c, i in secret_cells if c == col_id]
        gt = gt.tab_style(
            style=style.text(color=SECRET_TEXT, style="italic"),
            locations=loc.body(columns=col_id, rows=rows),
        )
    if "_total" in table.frame and table.frame["_total"].any():
        rows = [i for i in range(len(frame)) if bool(table.frame["_total"].iat[i])]
        gt = gt.tab_style(
            style=[style.text(weight="bold"), style.fill(color="#f6f6f6")],
            locations=[loc.body(rows=rows), loc.stub(rows=rows)],
        )
    if table.styler is not None:
        gt = table.styler(gt, table, ids)
    narrow = len(table.html_cols) <= 5
    gt = gt.tab_options(
        table_font_size="14px",
        table_width="auto" if narrow else "100%",
        table_margin_left="0",
        table_font_color="#161616",
        table_border_top_color=BLUE,
        table_border_top_width="3px",
        column_labels_background_color=BLUE,
        column_labels_font_weight="bold",
        row_group_background_color=BLUE_LIGHT,
        row_group_font_weight="bold",
        row_group_border_top_color=BLUE,
        data_row_padding="6px",
        stub_font_weight="normal",
        source_notes_font_size="12px",
    )
    for note in table.notes:
        gt = gt.tab_source_note(note)
    out = gt.as_raw_html()
    out = _caption(out, table)
    if table.link_poles:
        out = link_pole_ids(out, table.link_poles)
    return out


_TABLE_TAG = re.compile(r"<table\b[^>]*>")
_STUB_POLE = re.compile(
    r'(<th scope="row" id="[^"]*" class="gt_row gt_left gt_stub[^"]*">)(PTCE-\d{3,})(</th>)'
)


def _caption(out: str, table: Table) -> str:
    """great-tables has no <caption>: add one (title and subtitle), the table's accessible name."""
    caption = (
        f'<caption><span class="cap-title">{html.escape(table.title)}</span>'
        f'<span class="cap-sub">{html.escape(table.subtitle)}</span></caption>'
    )
    return _TABLE_TAG.sub(lambda m: m.group(0) + caption, out, count=1)


def link_pole_ids(out: str, poles: frozenset[str], prefix: str = "poles/") -> str:
    """Turn row headers that are exactly the id of a pole with a fiche into links to it (the
    pattern itself admits nothing but an id: any other text, escaped, is left alone)."""

    def link(m: re.Match) -> str:
        if m.group(2) not in poles:
            return m.group(0)
        return f'{m.group(1)}<a href="{prefix}{m.group(2)}.html">{m.group(2)}</a>{m.group(3)}'

    return _STUB_POLE.sub(link, out)


def heat(score: Any) -> tuple[str, str] | None:
    """Background and text colours for a 0–100 score, in ten steps: orange below 50, blue
    above (diverging around the national median), text colour chosen for contrast."""
    if F.is_missing(score):
        return None
    step = min(9, int(max(0.0, float(score)) // 10))  # 0..9
    t = abs(step - 4.5) / 4.5
    end = (0, 0, 145) if step >= 5 else (179, 64, 0)
    rgb = tuple(round(255 + (e - 255) * t * 0.85) for e in end)
    lum = sum(w * (c / 255) ** 2.2 for w, c in zip((0.2126, 0.7152, 0.0722), rgb, strict=True))
    text = "#ffffff" if lum < 0.25 else "#161616"
    return "#{:02x}{:02x}{:02x}".format(*rgb), text


def heat_styler(columns: list[str]) -> Callable[..., GT]:
    """Colour score cells (one great-tables style per colour and column, not per cell)."""

    def apply(gt: GT, table: Table, ids: dict[str, str]) -> GT:
        for key in columns:
            col = next(c for c in table.cols if c.key == key)
            groups: dict[tuple[str, str], list[int]] = {}
            for i in range(len(table.frame)):
                colours = None if table.is_secret(col, i) else heat(table.frame[key].iat[i])
                if colours:
                    groups.setdefault(colours, []).append(i)
            for (fill, text), rows in sorted(groups.items()):
                gt = gt.tab_style(
                    style=[style.fill(color=fill), style.text(color=text)],
                    locations=loc.body(columns=ids[key], rows=rows),
                )
        return gt

    return apply
