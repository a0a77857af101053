"""Page layout of the publication site (offline: no script, no external resource, a strict
Content-Security-Policy) and a small, fast table writer for the fiches pôles.

Every piece of text goes through `html.escape`; markup is only ever built here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .audience import AUDIENCES, INTERNAL, PUBLIC, PUBLIC_SECTIONS, RESTRICTED_MARK
from .tables import class_css

e = html.escape

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"

CSS = """
:root { --bleu: #000091; --bleu-clair: #ececfe; --texte: #161616; --gris: #3a3a3a;
        --bord: #dddddd; --fond: #f6f6f6; --alerte: #ce0500; }
* { box-sizing: border-box; }
body { font-family: "Marianne", Arial, Helvetica, sans-serif; color: var(--texte); margin: 0;
       line-height: 1.5; background: #fff; font-size: 16px; overflow-wrap: break-word; }
h1, h2, h3, p, li, dd, dt, caption { overflow-wrap: anywhere; }
.wrap { max-width: 80rem; margin: 0 auto; padding: 0 1.5rem; }
a { color: var(--bleu); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
a:focus-visible, summary:focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 10; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden;
           clip: rect(0 0 0 0); white-space: nowrap; }
header.bandeau { border-bottom: 1px solid var(--bord); box-shadow: 0 2px 6px rgba(0,0,18,.12); }
.marque { display: flex; align-items: center; gap: 1rem; padding: 1rem 0 .75rem; }
.marque .bloc { border-left: 4px solid var(--bleu); padding-left: .75rem; }
.marque .titre { font-size: 1.25rem; font-weight: 700; margin: 0; }
.marque .titre a { color: var(--texte); text-decoration: none; }
.marque .sous { margin: 0; color: var(--gris); font-size: .9rem; }
nav.sections ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; }
nav.sections a { display: block; padding: .6rem .9rem; color: var(--texte);
                 text-decoration: none; font-size: .95rem; border-bottom: 3px solid transparent; }
nav.sections a:hover { background: var(--fond); }
nav.sections a[aria-current="page"] { color: var(--bleu); border-bottom-color: var(--bleu);
                                      font-weight: 700; }
main { padding-top: 1.5rem; padding-bottom: 2rem; }
h1 { font-size: 2rem; line-height: 1.25; margin: .5rem 0 .75rem; }
h2 { font-size: 1.45rem; margin: 2.25rem 0 .5rem; line-height: 1.3; }
h3 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.chapo { font-size: 1.1rem; color: var(--gris); max-width: 60rem; }
.fil { font-size: .875rem; color: var(--gris); margin: 0; }
.fil a { color: var(--gris); }
.bandeau-info { border-left: 4px solid var(--bleu); background: var(--bleu-clair);
                padding: .75rem 1rem; margin: 1rem 0; }
.bandeau-info.restreinte { border-left-color: var(--alerte); background: #fee9e9; }
.bandeau-info.provisoire { border-left-color: #b34000; background: #fff4ed; }
.chiffres { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(13rem, 100%), 1fr));
            gap: 1rem; margin: 1rem 0 .5rem; padding: 0; list-style: none; }
.chiffres li { border: 1px solid var(--bord); border-bottom: 4px solid var(--bleu);
               padding: .9rem 1rem; background: #fff; }
.chiffres .valeur { display: block; font-size: 1.6rem; font-weight: 700; color: var(--bleu); }
.chiffres .libelle { display: block; font-size: .95rem; }
.chiffres .n { display: block; font-size: .8rem; color: var(--gris); }
.cartes { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(22rem, 100%), 1fr));
          gap: 1rem; padding: 0; list-style: none; }
.cartes > li { border: 1px solid var(--bord); padding: 1rem 1.25rem; }
.cartes h3 { margin-top: 0; }
.cartes ul { padding-left: 1.1rem; margin: .25rem 0 0; }
.cartes li li { margin: .2rem 0; }
.telecharger { font-size: .875rem; margin: .25rem 0 .75rem; color: var(--gris); }
section.tableau { margin-bottom: 2.5rem; }
.toc { columns: 2 18rem; padding-left: 1.1rem; }
dl.identite { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.5rem;
              margin: 1rem 0; padding: 1rem 1.25rem; background: var(--fond); }
dl.identite dt { font-weight: 700; }
dl.identite dd { margin: 0; min-width: 0; }
.notes { font-size: .875rem; color: var(--gris); }
.notes li { margin: .25rem 0; }
footer.pied { border-top: 3px solid var(--bleu); margin-top: 2rem; padding: 1rem 1.5rem 2rem;
              font-size: .875rem; color: var(--gris); }
.secret { color: #666666; font-style: italic; }
table.simple th.span { text-align: center; border-bottom: 2px solid #ffffff; }
table.simple td.notes-table { font-size: 12px; color: var(--gris); border-bottom: 0; }
.gt_table caption { caption-side: top; text-align: left; padding: 0 0 .4rem;
                    color: var(--gris); font-size: .9rem; }
caption .cap-title { position: absolute; width: 1px; height: 1px; overflow: hidden;
                               clip: rect(0 0 0 0); white-space: nowrap; }
.gt_table a { color: var(--bleu); }
.defile { overflow-x: auto; max-width: 100%; }
.defile:focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }
.defile > .gt-wrap { overflow: visible !important; }
.gt_table td.gt_right, .gt_table th.gt_right { font-variant-numeric: tabular-nums; }
table.simple { border-collapse: collapse; width: 100%; font-size: 14px; margin: .5rem 0 1rem;
               border-top: 3px solid var(--bleu); }
table.simple caption { caption-side: top; text-align: left; color: var(--gris);
                       font-size: .9rem; padding: 0 0 .4rem; }
table.simple th, table.simple td { padding: 6px 8px; border-bottom: 1px solid var(--bord);
                                   text-align: left; vertical-align: top; }
table.simple thead th { background: var(--bleu); color: #fff; vertical-align: bottom; }
table.simple tbody th { font-weight: normal; }
table.simple th.groupe { background: var(--bleu-clair); font-weight: 700;
                         border-top: 2px solid var(--bleu); }
table.simple .num { text-align: right; font-variant-numeric: tabular-nums; }
table.simple .debut { border-left: 2px solid var(--bleu); }
table.simple thead th.debut { border-left-color: #ffffff; }
table.simple td.num { white-space: nowrap; }
table.simple tbody th[scope="row"] { white-space: nowrap; }
table.simple tr.total > * { font-weight: 700; background: var(--fond); }
svg.profil { width: 100%; max-width: 37rem; height: auto; display: block; margin: .5rem 0; }
.deux { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 2rem;
        align-items: start; }
.deux > * { min-width: 0; }
@media (max-width: 60rem) { .deux { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 40rem) {
  .wrap { padding: 0 1rem; }
  h1 { font-size: 1.6rem; }
  .marque { padding: .6rem 0 .4rem; }
  nav.sections a { padding: .4rem .6rem; }
  dl.identite { grid-template-columns: minmax(0, 1fr); padding: .75rem 1rem; }
  dl.identite dd { margin-bottom: .4rem; }
  .chiffres { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .5rem; }
  .chiffres li { padding: .5rem .75rem; }
  .chiffres .valeur { font-size: 1.3rem; }
}
@media print { nav.sections, .skip, .telecharger { display: none; }
               header.bandeau { box-shadow: none; } a { color: inherit; } }
"""

SECTIONS = (
    ("index", "Accueil"),
    ("recensement", "Recensement"),
    ("capitalisation", "Capitalisation"),
    ("labellisation", "Labellisation"),
    ("profils", "Profils"),
    ("completude", "Complétude et qualité"),
)


CSS += class_css()


def page(
    title: str,
    body: str,
    *,
    period: int | None,
    current: str,
    depth: int = 0,
    footer: str = "",
    nav: bool = True,
    audience: str = INTERNAL,
) -> str:
    up = "../" * depth
    items = []
    public = audience == PUBLIC
    for stem, label in SECTIONS:
        if public and stem not in PUBLIC_SECTIONS:
            continue
        attr = ' aria-current="page"' if stem == current else ""
        items.append(f'<li><a href="{up}{stem}.html"{attr}>{e(label)}</a></li>')
    attr = ' aria-current="page"' if current == "fiches" else ""
    if not public:
        items.append(f'<li><a href="{up}index.html#fiches"{attr}>Fiches pôles</a></li>')
    suffix = f" {period}" if period else ""
    sub = f" — période {period}" if period else ""
    menu = (
        f'<nav class="sections" aria-label="Sections de la publication"><ul>{"".join(items)}</ul></nav>'
        if nav
        else ""
    )
    mark = (
        f'<p class="bandeau-info public">Public : {e(AUDIENCES[audience])}.</p>'
        if public
        else f'<p class="bandeau-info restreinte"><strong>{RESTRICTED_MARK}</strong>'
        f"{e(_who(AUDIENCES.get(audience, AUDIENCES[INTERNAL])))}. Ne pas diffuser.</p>"
    )
    robots = "" if public else '\n<meta name="robots" content="noindex, nofollow">'
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="audience" content="{e(audience)}">{robots}
<link rel="icon" href="data:,">
<title>{e(title)} — Suivi national des PTCE{suffix}</title>
<style>{CSS}</style>
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header class="bandeau" role="banner">
<div class="wrap">
<div class="marque"><div class="bloc">
<p class="titre"><a href="{up}index.html">Suivi national des PTCE</a></p>
<p class="sous">Pôles territoriaux de coopération économique{sub}</p>
</div></div>
{menu}
</div>
</header>
<main id="contenu" class="wrap" role="main">
{mark}
{body}
</main>
<footer class="pied wrap" role="contentinfo">{footer}</footer>
</body>
</html>
"""


def _who(label: str) -> str:
    """What follows the mark in the banner: « : équipe nationale… » (the label without the mark
    it starts with, so that the banner does not say it twice)."""
    return (
        label.removeprefix(RESTRICTED_MARK) if label.startswith(RESTRICTED_MARK) else f" — {label}"
    )


def notes_list(notes: Iterable[str], title: str = "Notes et sources") -> str:
    items = "".join(f"<li>{e(n)}</li>" for n in notes)
    return f'<h2 id="notes">{e(title)}</h2>\n<ul class="notes">{items}</ul>'


NUM_CLASS = ' class="num"'


@dataclass(frozen=True)
class Cell:
    text: str
    num: bool = False
    css: str = ""
    href: str | None = None  # built by our code from checked ids only


def _cell(tag: str, cell: Cell, extra: str = "") -> str:
    classes = " ".join(c for c in ("num" if cell.num else "", cell.css) if c)
    cls = f' class="{classes}"' if classes else ""
    text = e(cell.text)
    if cell.href:
        text = f'<a href="{e(cell.href)}">{text}</a>'
    return f"<{tag}{extra}{cls}>{text}</{tag}>"


def simple_table(
    caption: str,
    headers: Sequence[tuple[str, bool]],
    groups: Sequence[tuple[str | None, Sequence[Sequence[Cell]]]],
    *,
    tid: str,
    totals: Sequence[Sequence[Cell]] = (),
) -> str:
    """An accessible table: caption, `scope="col"` headers, the first cell of each row a
    `scope="row"` header, each group its own <tbody> headed by a `scope="rowgroup"` cell."""
    head = "".join(
        f'<th scope="col"{NUM_CLASS if num else ""}>{e(label)}</th>' for label, num in headers
    )
    parts = [
        f'<div class="defile" tabindex="0" role="region" aria-label="{e(caption)}">'
        f'<table class="simple" id="{e(tid)}">',
        f"<caption>{e(caption)}</caption>",
        f"<thead><tr>{head}</tr></thead>",
    ]
    for label, rows in groups:
        parts.append("<tbody>")
        if label is not None:
            parts.append(
                f'<tr><th scope="rowgroup" colspan="{len(headers)}" class="groupe">{e(label)}</th></tr>'
            )
        for row in rows:
            parts.append(
                "<tr>"
                + _cell("th", row[0], ' scope="row"')
                + "".join(_cell("td", c) for c in row[1:])
                + "</tr>"
            )
        parts.append("</tbody>")
    if totals:
        parts.append("<tbody>")
        for row in totals:
            parts.append(
                '<tr class="total">'
                + _cell("th", row[0], ' scope="row"')
                + "".join(_cell("td", c) for c in row[1:])
                + "</tr>"
            )
        parts.append("</tbody>")
    parts.append("</table></div>")
    return "\n".join(parts)


def key_figures(items: Iterable[tuple[str, str, str]]) -> str:
    """Key figures: (value, label, what it rests on)."""
    cards = "".join(
        f'<li><span class="valeur">{e(v)}</span><span class="libelle">{e(label)}</span>'
        f'<span class="n">{e(n)}</span></li>'
        for v, label, n in items
    )
    return f'<ul class="chiffres">{cards}</ul>'
