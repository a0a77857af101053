"""The published pages as their readers read them: no word meant for developers, page titles
that name the year once, the labellisation table's groups and alignment, and wide tables in a
box that scrolls on its own (reachable with the keyboard, named for screen readers)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_publication import build_campaign

# what a reader must never see: names from the code, SQL, Python's and pandas' empty values
DEVELOPER = re.compile(
    r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"  # snake_case identifiers (quantile_cont, pole_id…)
    r"|\b(?:None|nan|NaN|NaT|null|True|False|inf|Infinity|undefined)\b"
    r"|\b(?:duckdb|DuckDB|SELECT|pandas|Traceback)\b"
    r"|\bversion \d+ des données\b"
)


class _Visible(HTMLParser):
    """Text a reader sees: outside <style>, <script> and <code>; the <title> apart."""

    def __init__(self):
        super().__init__()
        self.hidden, self.in_title, self.text, self.title = 0, False, [], ""
        self.boxes: list[dict] = []
        self.spanners: dict[str, list[str]] = {}
        self._spanner: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("style", "script", "code"):
            self.hidden += 1
        if tag == "title" and not self.title:
            self.in_title = True
        if "defile" in (attrs.get("class") or "").split():
            self.boxes.append(attrs)
        if tag == "th" and attrs.get("scope") == "colgroup":
            self._spanner = ("", attrs.get("class") or "")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "code"):
            self.hidden -= 1
        if tag == "title":
            self.in_title = False
        if tag == "th" and self._spanner is not None:
            self.spanners.setdefault(self._spanner[0].strip(), []).append(self._spanner[1])
            self._spanner = None

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self._spanner is not None:
            self._spanner = (self._spanner[0] + data, self._spanner[1])
        if not self.hidden:
            self.text.append(data)


def read(path: Path) -> _Visible:
    parser = _Visible()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    return build_campaign(tmp_path_factory.mktemp("pages") / "home", ref)


def _pages(home) -> list[Path]:
    pages = sorted(home.publications_dir.rglob("*.html"))
    pages += sorted(home.inbox.glob("*/retours/fiche_*.html"))  # the fiches the poles get
    return pages


def test_no_page_shows_developer_wording(home):
    pages = _pages(home)
    assert len(pages) > 30
    found = {}
    for path in pages:
        text = " ".join(read(path).text)
        hits = sorted({m.group(0) for m in DEVELOPER.finditer(text)})
        hits += ["mark twice"] * (
            text.count("Diffusion restreinte") > 1
        )  # said once, in the banner
        if hits:
            found[path.relative_to(home.home).as_posix()] = hits
    assert found == {}
    recensement = " ".join(read(home.publications_for("public") / "2025" / "recensement.html").text)
    assert (
        "Quartiles calculés par interpolation linéaire entre les valeurs observées." in recensement
    )


def test_page_titles_name_the_year_once(home):
    titles = {p.relative_to(home.home).as_posix(): read(p).title for p in _pages(home)}
    repeated = {p: t for p, t in titles.items() if len(re.findall(r"\b20\d\d\b", t)) > 1}
    assert repeated == {}
    assert titles["warehouse/publications/interne/2025/capitalisation.html"] == (
        "Capitalisation — Suivi national des PTCE 2025"
    )


def test_issue_codes_are_shown_as_codes(home):
    page = (home.publications_for("interne") / "2025" / "completude.html").read_text("utf-8")
    codes = re.findall(r"<code>([^<]*)</code>", page)
    assert codes and all(re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", c) for c in codes)


def test_labellisation_groups_are_named_apart_and_numbers_aligned_alike(home, ref):
    page = home.publications_for("interne") / "2025" / "labellisation.html"
    html = page.read_text(encoding="utf-8")
    table = html[html.index('id="labellisation_poles"') : html.index("</table>", html.index('id="labellisation_poles"'))]  # fmt: skip
    parsed = _Visible()
    parsed.feed(table)
    groups = [ref.criterion_types[t][1] for t in ("incontournable", "a_tester")]
    assert list(parsed.spanners) == groups  # two spanners name the groups
    assert all("debut" in c for cs in parsed.spanners.values() for c in cs)  # a rule before each
    first = re.search(r"<tr>\s*<th scope=\"row\".*?</tr>", table, re.S).group(0)
    cells = re.findall(r'<td( class="([^"]*)")?>([^<]*)</td>', first)
    by_text = [(text, set(css.split())) for _, css, text in cells]
    fraction = [css for text, css in by_text if re.fullmatch(r"\d+/\d+", text)]
    counts = [css for text, css in by_text if re.fullmatch(r"\d+", text)]
    assert len(fraction) == 2 and len(counts) >= 4
    assert all("num" in css for css in fraction + counts)  # the same alignment for all
    css = html[html.index("<style>") : html.index("</style>")]
    assert "table.simple .num { text-align: right; font-variant-numeric: tabular-nums; }" in css


def test_wide_tables_scroll_in_a_named_focusable_box(home):
    for path in _pages(home):
        for box in read(path).boxes:
            assert box.get("tabindex") == "0", path
            assert box.get("role") == "region" and box.get("aria-label"), path
