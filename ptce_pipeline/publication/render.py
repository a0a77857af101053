"""HTML of a national table: great-tables for the national aggregates (fixed id, French
numbers, nanoplots), and a plain writer for the tables with one row per pole, which must stay
cheap for thousands of poles. Both give a <caption>, header scopes, masked cells in grey
italics, and the same cell classes (`Table.classes`).

Pole text is never passed through markdown or raw-HTML formatters: great-tables escapes every
body cell (≥ 1.0), and the plain writer escapes everything it writes.
"""

from __future__ import annotations

import html
import re

import pandas as pd
from great_tables import GT, loc, nanoplot_options, style

from . import fmt as F
from .tables import (
    BLUE,
    BLUE_LIGHT,
    CLASS_STYLES,
    SECRET_TEXT,
    Col,
    Table,
    display,
    plot_values,
)

e = html.escape


def _plot_cell(table: Table, col: Col, i: int) -> str:
    if table.is_secret(col, i):
        return F.SECRET
    values = table.values(col.key)[i]
    if values is None or len(values) == 0:
        return F.MISSING
    return " ".join(repr(v) for v in plot_values(values))


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
    return _render_fast(table) if table.fast else _render_gt(table)


def _render_gt(table: Table) -> str:
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
    numeric = [ids[c.key] for c in table.html_cols if c.numeric]
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
        shown = frame[ids[c.key]].tolist()
        rows = [i for i, v in enumerate(shown) if v not in (F.SECRET, F.MISSING)]
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
                alt="Répartition des valeurs déclarées, triées ; ligne orange : médiane",
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
        rows = [i for i, t in enumerate(table.values("_total")) if t]
        gt = gt.tab_style(
            style=[style.text(weight="bold"), style.fill(color="#f6f6f6")],
            locations=[loc.body(rows=rows), loc.stub(rows=rows)],
        )
    for key, classes in sorted(table.classes.items()):
        for name in sorted(set(classes) - {""}):
            fill, text, bold = CLASS_STYLES[name]
            col = next(c for c in table.cols if c.key == key)
            rows = [
                i for i, c in enumerate(classes) if c == name and not table.is_secret(col, i)
            ]  # a masked cell never gets a colour that would tell its value
            if not rows:
                continue
            styles = [style.text(color=text, weight="bold" if bold else None)]
            if fill:
                styles.append(style.fill(color=fill))
            gt = gt.tab_style(style=styles, locations=loc.body(columns=ids[key], rows=rows))
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
    for c in table.html_cols:
        if c.kind == "code":  # our codes, in <code> (great-tables escaped the text already)
            out = _code_cells(out, f"{table.key}-{ids[c.key]}")
    # great-tables scrolls its own box, which a keyboard cannot reach: our box scrolls instead
    out = out.replace(f'<div id="{table.key}" style=', f'<div id="{table.key}" class="gt-wrap" style=', 1)  # fmt: skip
    return f"{scroll_box(table.title)}{out}</div>"


def _code_cells(out: str, header: str) -> str:
    cell = re.compile(rf'(<td headers="[^"]*\b{re.escape(header)}"[^>]*>)([^<]*)(</td>)')
    return cell.sub(lambda m: f"{m.group(1)}<code>{m.group(2)}</code>{m.group(3)}", out)


def scroll_box(label: str, ident: str = "") -> str:
    """The opening tag of the box a wide table scrolls in on a narrow screen, reachable with
    the keyboard (tabindex) and named for screen readers."""
    attr = f' id="{e(ident)}"' if ident else ""
    return f'<div{attr} class="defile" tabindex="0" role="region" aria-label="{e(label)}">'


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


def _breaks(cols: list[Col]) -> set[int]:
    """Columns that open a group (a spanner begins or ends there): drawn with a rule on their
    left, so that the groups of a wide table read apart."""
    return {
        k
        for k in range(1, len(cols))
        if cols[k].spanner != cols[k - 1].spanner and (cols[k].spanner or cols[k - 1].spanner)
    }


def _classes(*names: str) -> str:
    names = tuple(n for n in names if n)
    return f' class="{" ".join(names)}"' if names else ""


def _header(cols: list[Col]) -> str:
    """One header row, or two when some columns sit under a spanner."""
    spanned = any(c.spanner for c in cols)
    breaks = _breaks(cols)
    top, bottom = [], []
    i = 0
    while i < len(cols):
        c = cols[i]
        rule = "debut" if i in breaks else ""
        if c.spanner:
            j = i
            while j < len(cols) and cols[j].spanner == c.spanner:
                j += 1
            top.append(
                f'<th scope="colgroup" colspan="{j - i}"{_classes("span", rule)}>'
                f"{e(c.spanner)}</th>"
            )
            for k in range(i, j):
                x = cols[k]
                css = _classes("num" if x.numeric else "", "debut" if k in breaks else "")
                bottom.append(f'<th scope="col"{css}>{e(x.header)}</th>')
            i = j
        else:
            rowspan = ' rowspan="2"' if spanned else ""
            css = _classes("num" if c.numeric else "", rule)
            top.append(f'<th scope="col"{rowspan}{css}>{e(c.header)}</th>')
            i += 1
    rows = f"<tr>{''.join(top)}</tr>" + (f"<tr>{''.join(bottom)}</tr>" if spanned else "")
    return f"<thead>{rows}</thead>"


def _render_fast(table: Table) -> str:
    cols = table.html_cols
    if table.stub:
        cols = [c for c in cols if c.key == table.stub] + [c for c in cols if c.key != table.stub]
    n = len(table.frame)
    groups = table.values("_group") or [None] * n
    totals = table.values("_total") or [False] * n
    order: dict[object, list[int]] = {}
    for i, g in enumerate(groups):
        order.setdefault(g, []).append(i)
    texts = {c.key: [display(table, c, i) for i in range(n)] for c in cols}
    breaks = _breaks(cols)
    parts = [
        f'{scroll_box(table.title, table.key)}<table class="simple">',
        f'<caption><span class="cap-title">{e(table.title)}</span>'
        f'<span class="cap-sub">{e(table.subtitle)}</span></caption>',
        _header(cols),
    ]
    for group, rows in order.items():
        parts.append("<tbody>")
        if group is not None:
            parts.append(
                f'<tr><th scope="rowgroup" colspan="{len(cols)}" class="groupe">{e(str(group))}</th></tr>'
            )
        for i in rows:
            cells = []
            for k, c in enumerate(cols):
                text = texts[c.key][i]
                css = []
                if c.numeric:
                    css.append("num")
                if k in breaks:
                    css.append("debut")
                if table.is_secret(c, i):
                    css.append("secret")
                elif c.key in table.classes and table.classes[c.key][i]:
                    css.append(table.classes[c.key][i])
                cls = f' class="{" ".join(css)}"' if css else ""
                body = f"<code>{e(text)}</code>" if c.kind == "code" else e(text)
                if k == 0 and table.stub and text in table.link_poles:
                    body = f'<a href="poles/{e(text)}.html">{body}</a>'
                tag, scope = ("th", ' scope="row"') if k == 0 and table.stub else ("td", "")
                cells.append(f"<{tag}{scope}{cls}>{body}</{tag}>")
            row_cls = ' class="total"' if totals[i] else ""
            parts.append(f"<tr{row_cls}>{''.join(cells)}</tr>")
        parts.append("</tbody>")
    if table.notes:
        notes = "<br>".join(e(x) for x in table.notes)
        parts.append(
            f'<tfoot><tr><td colspan="{len(cols)}" class="notes-table">{notes}</td></tr></tfoot>'
        )
    parts.append("</table></div>")
    return "\n".join(parts)
