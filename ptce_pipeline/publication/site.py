"""The publication site of a period: index.html and one page per table, written under a
temporary name and swapped into place, plus tableaux.xlsx, CSV, Parquet and manifest.json."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..faults import fault_point
from ..referentiel import load_referentiel
from . import data as D
from . import tables as T
from .exports import write_exports

CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; margin: 0; line-height: 1.5; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 1rem; }
header { border-bottom: 3px solid #1F3864; }
a { color: #0b4f9c; }
a:focus, a:hover { outline: 2px solid #0b4f9c; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
.note { color: #444; font-size: .9rem; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; }
"""


@dataclass
class PublishResult:
    published: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    paths: dict[int, str] = field(default_factory=dict)
    nothing: bool = False


def _page(title: str, body: str, *, depth: int = 0) -> str:
    e = html.escape
    up = "../" * depth
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:">
<title>{e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header><p><a href="{up}index.html">Suivi national des PTCE</a></p></header>
<main id="contenu">
{body}
</main>
<footer class="note"><p>Publication produite par ptce-pipeline.</p></footer>
</body>
</html>
"""


def _notes(data: D.PeriodData, ref, generated: dt.datetime) -> list[str]:
    closed = ", ".join(str(p) for p in data.closed_campaigns) or "aucune"
    notes = [
        f"Sources : classeurs de suivi déposés par les pôles, version en vigueur au {generated:%d/%m/%Y}. "
        f"Référentiel {ref.version}{' (libellés provisoires)' if ref.provisional else ''}.",
        f"Campagnes closes au moment de la publication : {closed}.",
        f"Secret statistique : un agrégat portant sur moins de {D.SECRET_MIN} pôles est masqué.",
    ]
    return notes


def _accessible(table_html: str, caption: str) -> str:
    """great-tables gives no <caption> nor header scopes: add both (RGAA basics)."""
    out = table_html.replace('<th class="gt_col_heading', '<th scope="col" class="gt_col_heading')
    out = out.replace('<th class="gt_group_heading', '<th scope="colgroup" class="gt_group_heading')
    idx = out.find("<table")
    if idx >= 0:
        end = out.find(">", idx) + 1
        out = (
            out[:end] + f'<caption class="gt_caption">{html.escape(caption)}</caption>' + out[end:]
        )
    return out


def _exchange(tmp: Path, final: Path, settings: Settings | None = None) -> None:
    """Swap a freshly written folder into place; readers see the old or the new site."""
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.rename(final, old)
        fault_point(settings, "publication_swap")
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final)


def _recover(root: Path) -> None:
    """Finish what an interrupted publication left: a period folder moved aside but not
    replaced is put back; half-written temporary folders are removed."""
    if not root.is_dir():
        return
    for leftover in sorted(root.glob(".old-*")):
        final = root / leftover.name.removeprefix(".old-").rsplit("-", 1)[0]
        if not final.exists():
            os.rename(leftover, final)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in root.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def build_period(settings: Settings, con, period: int, generated: dt.datetime) -> Path:
    ref = load_referentiel(settings.referentiel_path)
    data = D.load_period(con, period, ref.version)
    notes = _notes(data, ref, generated)
    tables = [
        T.capitalisation(ref, data, notes),
        T.recensement_regions(ref, data, notes),
        T.completude(data, notes),
    ]
    root = settings.publications_dir
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{period}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    links = []
    for table in tables:
        body = (
            f"<h1>{html.escape(table.title)} {period}</h1>\n<p>{html.escape(table.subtitle)}</p>\n"
            + _accessible(table.gt.as_raw_html(), f"{table.title} {period}")
        )
        (tmp / f"{table.key}.html").write_text(
            _page(f"{table.title} {period}", body), encoding="utf-8"
        )
        links.append(
            f'<li><a href="{table.key}.html">{html.escape(table.title)}</a> — {html.escape(table.subtitle)}</li>'
        )
    write_exports(tmp, tables, data, generated)
    e = html.escape
    index = f"""<h1>Suivi national des PTCE — période {period}</h1>
<p>Tableaux nationaux du recensement et de la capitalisation, établis à partir des classeurs acceptés.</p>
<nav aria-label="Tableaux"><h2>Tableaux</h2><ul>{"".join(links)}</ul></nav>
<h2>Réutiliser les données</h2>
<ul><li><a href="tableaux.xlsx">tableaux.xlsx</a> (une feuille par tableau)</li>
<li>Fichiers CSV (UTF-8, séparateur « ; ») et Parquet dans le dossier <a href="donnees/">donnees/</a></li>
<li><a href="manifest.json">manifest.json</a> (date, version du référentiel, dépôts utilisés)</li></ul>
<h2>Notes</h2><ul class="note">{"".join(f"<li>{e(n)}</li>" for n in notes)}</ul>
"""
    (tmp / "index.html").write_text(
        _page(f"Suivi national des PTCE — {period}", index), encoding="utf-8"
    )
    manifest = {
        "period": period,
        "generated_at": generated.isoformat(),
        "data_version": data.version,
        "referentiel_version": ref.version,
        "referentiel_sha256": ref.sha256,
        "closed_campaigns": data.closed_campaigns,
        "submissions": data.submissions,
        "tables": [t.key for t in tables],
    }
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    final = root / str(period)
    fault_point(settings, "publication_write")
    _exchange(tmp, final, settings)
    return final


def published_version(settings: Settings, period: int) -> int | None:
    path = settings.publications_dir / str(period) / "manifest.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        return int(json.loads(path.read_text(encoding="utf-8"))["data_version"])
    return None


def publish(
    settings: Settings, periods: list[int] | None = None, *, now: dt.datetime | None = None
) -> PublishResult:
    """Publish the given periods, or those whose data changed since their last publication."""
    from ..warehouse import connect

    result = PublishResult()
    _recover(settings.publications_dir)
    if not settings.snapshot_db.exists():
        result.nothing = True
        return result
    generated = now or dt.datetime.now(dt.UTC)
    con = connect(settings.snapshot_db, read_only=True)
    try:
        available = D.periods_with_data(con)
        targets = periods if periods else available
        for period in targets:
            if periods is None and published_version(settings, period) == D.period_version(
                con, period
            ):
                result.skipped.append(period)
                continue
            path = build_period(settings, con, period, generated)
            result.published.append(period)
            result.paths[period] = str(path.relative_to(settings.home) / "index.html")
    finally:
        con.close()
    result.nothing = not result.published
    return result
