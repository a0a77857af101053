"""National tables: each table's numbers against SQL on the warehouse for a generated campaign,
the statistical secret, French formatting, accessibility basics, injection, personal data,
determinism and the swap into place."""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
import io
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from helpers.review import sign_off
from helpers.workbooks import drop, filled, make_home, workbook

from ptce_pipeline.catalogue.referentiel import referentiel_bytes
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.publication import publish
from ptce_pipeline.publication import site as S
from ptce_pipeline.publication.fmt import paris
from ptce_pipeline.template import demo

POLES_2024 = [f"PTCE-{i:03d}" for i in range(1, 9)]
POLES_2025 = POLES_2024[:-1]  # PTCE-008 does not declare 2025
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
EI_NAME = "Jean Dupont Plomberie"
NOW = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)


def _set_member_text(row: int, column: int, text: str):
    """A member cell holding text that starts with "=": a string cell, not a formula."""

    def edit(wb):
        cell = wb["Membres"].cell(row=row, column=column)
        cell.value = text
        cell.data_type = "s"

    return edit


def build_campaign(root: Path, ref) -> object:
    """Two campaigns of several poles through the real template, ingest and publish."""
    poles = [
        dataclasses.replace(p, nom=SCRIPT) if p.pole_id == "PTCE-003" else p
        for p in demo.registry()
    ]
    settings = make_home(root, poles=poles)
    settings.campaigns_path.write_text(
        "periode,date_limite\n2024,2025-03-31\n2025,2099-03-31\n", encoding="utf-8"
    )
    forms = ref.lists["formes_juridiques"]
    for period, ids in ((2024, POLES_2024), (2025, POLES_2025)):
        for pid in ids:
            data = copy.deepcopy(filled(ref, pid, period))
            edit = None
            if pid == "PTCE-003":
                data.identity["nom"] = SCRIPT
            if period == 2025:
                data.indicators["IND02"] = max(0, data.indicators["IND02"] - 25)
                if pid not in ("PTCE-001", "PTCE-002"):
                    data.indicators["IND15"] = None  # optional: only 2 poles report it
                if pid == "PTCE-002":
                    edit = _set_member_text(5, 2, FORMULA)
                if pid == "PTCE-004":
                    data.members[1]["nom"] = EI_NAME
                    data.members[1]["forme_juridique"] = forms.label_of("ei")
                if pid == "PTCE-006":  # accepted with a warning
                    data.criteria["CI3"] = ("Oui", "")
            drop(settings, pid, f"{pid}_{period}.xlsx", workbook(ref, data, edit=edit))
    refused = copy.deepcopy(filled(ref, "PTCE-009", 2025))
    refused.indicators["IND12"] = 7  # out of the 0–3 scale
    drop(settings, "PTCE-009", "PTCE-009_2025.xlsx", workbook(ref, refused))
    report = run_ingest(settings)
    assert report.statuses.get("refusee", 0) == 1, report.statuses
    sign_off(settings)  # the public release rests on signed-off declarations
    publish(settings, [2024, 2025], now=NOW)
    return settings


@pytest.fixture(scope="module")
def pub(tmp_path_factory, ref):
    return build_campaign(tmp_path_factory.mktemp("pub") / "home", ref)


def folder(settings, period: int = 2025) -> Path:
    return settings.publications_for("interne") / str(period)


def sql(settings, query: str, params=None) -> pd.DataFrame:
    con = duckdb.connect(str(settings.snapshot_db), read_only=True)
    try:
        return con.execute(query, params or []).df()
    finally:
        con.close()


def parquet(settings, key: str, period: int = 2025) -> pd.DataFrame:
    return pd.read_parquet(folder(settings, period) / "donnees" / f"{key}.parquet")


def csv_rows(settings, key: str, period: int = 2025) -> list[list[str]]:
    raw = (folder(settings, period) / "donnees" / f"{key}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so French Excel reads the accents
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline=""), delimiter=";"))


class _Cells(HTMLParser):
    """Text of the rows of the table inside the element with a given id."""

    def __init__(self, ident: str):
        super().__init__()
        self.ident, self.depth, self.rows, self.cell = ident, 0, [], None

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in ("br", "meta", "link", "img", "line", "rect", "path")
        elif dict(attrs).get("id") == self.ident:
            self.depth = 1
        if self.depth and tag == "tr":
            self.rows.append([])
        if self.depth and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None
        if self.depth:
            self.depth -= tag not in ("br", "meta", "link", "img", "line", "rect", "path")

    def handle_data(self, data):
        if self.depth and self.cell is not None:
            self.cell += data


def html_rows(path: Path, ident: str) -> list[list[str]]:
    parser = _Cells(ident)
    parser.feed(path.read_text(encoding="utf-8"))
    return [r for r in parser.rows if r]


def fr(text: str) -> float:
    return float(text.replace("\u202f", "").replace("\u00a0", "").rstrip("€%").replace(",", "."))


# --- recensement ----------------------------------------------------------------------------
def test_regions_match_sql(pub, ref):
    expected = sql(
        pub,
        """SELECT i.value AS region, count(*) AS n, sum(m.k) AS members
           FROM current_identity i
           JOIN (SELECT submission_id, count(*) AS k FROM current_members GROUP BY 1) m
             USING (submission_id)
           WHERE i.period = 2025 AND i.field = 'region' GROUP BY 1""",
    )
    table = parquet(pub, "recensement_regions").set_index("Région")
    for row in expected.itertuples():
        got = table.loc[ref.geography.regions[row.region]]
        assert got["Pôles"] == row.n
        if row.n >= 3:
            assert got["Membres"] == row.members and not got["Secret statistique"]
        else:
            assert pd.isna(got["Membres"]) and got["Secret statistique"]
    assert table.loc["Ensemble", "Pôles"] == len(POLES_2025)
    assert table.loc["Ensemble", "Membres"] == expected["members"].sum()


def test_typology_and_departements_match_sql(pub, ref):
    typo = parquet(pub, "recensement_typologie")
    for key in ("type_territoire", "secteur", "origine", "echelle"):
        spec = ref.identity_by_key[key]
        counts = sql(
            pub,
            "SELECT value, count(*) AS n FROM current_identity WHERE period = 2025 AND field = ? GROUP BY 1",
            [key],
        )
        got = typo[typo["Critère"] == spec.label].set_index("Modalité")["Pôles"]
        assert got.sum() == len(POLES_2025)
        for row in counts.itertuples():
            assert got[ref.lists[spec.liste].label_of(row.value)] == row.n
    deps = parquet(pub, "recensement_departements")
    counts = sql(
        pub,
        "SELECT value, count(*) AS n FROM current_identity WHERE period = 2025 AND field = 'departement' GROUP BY 1",
    )
    assert sorted(deps["Pôles"]) == sorted(counts["n"])
    assert all(d.split(" — ")[0] in set(counts["value"]) for d in deps["Département"])


def test_membership_tables_match_sql(pub, ref):
    for key, column, liste in (
        ("recensement_categories", "categorie", "categories_membres"),
        ("recensement_formes", "forme_juridique", "formes_juridiques"),
    ):
        expected = sql(
            pub,
            f"""SELECT {column} AS code, count(*) AS members, count(DISTINCT pole_id) AS poles
                FROM current_members WHERE period = 2025 GROUP BY 1""",
        )
        table = parquet(pub, key)
        label_col = table.columns[0]
        table = table.set_index(label_col)
        for row in expected.itertuples():
            got = table.loc[ref.lists[liste].label_of(row.code)]
            assert got["Pôles concernés"] == row.poles
            if row.poles >= 3:
                assert got["Membres"] == row.members
            else:  # e.g. the one entreprise individuelle
                assert pd.isna(got["Membres"]) and got["Secret statistique"]
    forms = parquet(pub, "recensement_formes").set_index("Forme juridique")
    assert forms.loc["Entreprise individuelle", "Secret statistique"]
    sizes = sql(
        pub, "SELECT pole_id, count(*) AS k FROM current_members WHERE period = 2025 GROUP BY 1"
    )
    taille = parquet(pub, "recensement_taille").set_index("Nombre de membres")["Pôles"]
    assert taille.sum() == len(POLES_2025)
    assert taille["5 à 9"] == int(((sizes.k >= 5) & (sizes.k <= 9)).sum())


def test_jobs_and_budgets_match_sql(pub, ref):
    expected = sql(
        pub,
        """SELECT indicator_code AS code, count(value) AS n, sum(value) AS total,
                  avg(value) AS mean, quantile_cont(value, 0.5) AS median,
                  quantile_cont(value, 0.25) AS q1, quantile_cont(value, 0.75) AS q3
           FROM current_indicator_values WHERE period = 2025 AND value IS NOT NULL
             AND indicator_code IN ('IND22','IND23','IND24','IND25','IND08','IND26') GROUP BY 1""",
    ).set_index("code")
    table = parquet(pub, "recensement_emplois_budgets").set_index("Code")
    for code, row in expected.iterrows():
        got = table.loc[code]
        assert got["Pôles répondants"] == row.n
        assert got["Médiane"] == pytest.approx(row["median"])
        assert got["1er quartile"] == pytest.approx(row["q1"])
        assert got["Moyenne"] == pytest.approx(row["mean"])
        if ref.indicator_by_code[code].total:
            assert got["Total"] == pytest.approx(row["total"])
        else:  # a percentage has no national total
            assert pd.isna(got["Total"])


# --- capitalisation -------------------------------------------------------------------------
def test_capitalisation_matches_national_indicators(pub, ref):
    view = sql(pub, "SELECT * FROM national_indicators WHERE period = 2025").set_index(
        "indicator_code"
    )
    prev = sql(pub, "SELECT * FROM national_indicators WHERE period = 2024").set_index(
        "indicator_code"
    )
    table = parquet(pub, "capitalisation").set_index("Code")
    assert list(table.index) == [i.code for i in ref.indicators]
    for ind in ref.indicators:
        got, want = table.loc[ind.code], view.loc[ind.code]
        assert got["Indicateur"] == ind.label
        assert got["Pôles répondants"] == want.n_poles
        if want.n_poles < 3:
            assert got["Secret statistique"] and pd.isna(got["Médiane"]) and pd.isna(got["Total"])
            continue
        assert got["Médiane"] == pytest.approx(want["median"])
        assert got["1er quartile"] == pytest.approx(want["q1"])
        assert got["3e quartile"] == pytest.approx(want["q3"])
        if ind.total:
            assert got["Total"] == pytest.approx(want["total"])
        else:
            assert pd.isna(got["Total"])
        before = prev.loc[ind.code]["median"]
        assert got["Médiane 2024"] == pytest.approx(before)
        if ind.kind in ("percent", "scale"):
            assert got["Évolution de la médiane"] == pytest.approx(want["median"] - before)
        elif before:
            assert got["Évolution de la médiane"] == pytest.approx(
                (want["median"] - before) / before * 100
            )
    assert table.loc["IND15", "Pôles répondants"] == 2  # masked, but its n is published


def test_capitalisation_html_shows_french_numbers_and_nanoplots(pub, ref):
    page = folder(pub) / "capitalisation.html"
    rows = {r[0]: r for r in html_rows(page, "capitalisation") if len(r) > 5}
    label = ref.indicator_by_code["IND05"].label
    total = sql(
        pub,
        "SELECT sum(value) FROM current_indicator_values WHERE period = 2025 AND indicator_code = 'IND05'",
    ).iat[0, 0]
    cell = rows[label][4]  # Indicateur, Code, Unité, Pôles, Total
    assert "\u202f" in cell and fr(cell) == total  # 176 026: espace fine
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") >= 26  # one nanoplot per unmasked indicator
    assert rows[ref.indicator_by_code["IND15"].label][6] == "secret"
    euros = rows[ref.indicator_by_code["IND25"].label][7]
    assert euros.endswith("\u00a0€") and "," not in euros


# --- labellisation, complétude, profils -----------------------------------------------------
def test_labellisation_counts_met_and_partly_apart(pub, ref):
    expected = sql(
        pub,
        """SELECT pole_id,
                  count(*) FILTER (WHERE criterion_type = 'incontournable' AND answer = 'oui') AS ci,
                  count(*) FILTER (WHERE criterion_type = 'incontournable' AND answer = 'en_partie') AS ci_p,
                  count(*) FILTER (WHERE criterion_type = 'a_tester' AND answer = 'oui') AS ct
           FROM current_criteria WHERE period = 2025 GROUP BY 1""",
    ).set_index("pole_id")
    table = parquet(pub, "labellisation_poles").set_index("Pôle")
    inc, tst = ref.criterion_types["incontournable"][1], ref.criterion_types["a_tester"][1]
    for pole, row in expected.iterrows():
        assert table.loc[pole, f"{inc} : remplis"] == row.ci
        assert table.loc[pole, f"{inc} : en partie"] == row.ci_p
        assert table.loc[pole, f"{tst} : remplis"] == row.ct
    html = {r[0]: r for r in html_rows(folder(pub) / "labellisation.html", "labellisation_poles")}
    first = expected.index[0]
    assert html[first][2] == f"{expected.loc[first, 'ci']}/8"
    assert html[first][3] == str(expected.loc[first, "ci_p"])  # shown apart


def test_completude_matches_view_with_late_flag_from_now(pub):
    view = sql(
        pub,
        "SELECT pole_id, status, late, submission_id, coalesce(n_warnings, 0) AS w FROM completeness WHERE period = 2024",
    ).set_index("pole_id")
    table = parquet(pub, "completude_poles", 2024).set_index("Pôle")
    assert len(table) == len(view) == len(demo.registry())
    for pole, row in view.iterrows():
        assert table.loc[pole, "Code du statut"] == row.status
        assert table.loc[pole, "Avertissements"] == row.w
        if row.submission_id is not None and not pd.isna(row.submission_id):
            assert table.loc[pole, "En retard"] == ("oui" if row.late else "non")
        else:  # missing, deadline 31/03/2025 < NOW
            assert table.loc[pole, "Code du statut"] == "manquante"
            assert table.loc[pole, "En retard"] == "oui"
    synth = parquet(pub, "completude_synthese").set_index("Statut")
    refused = 1  # PTCE-009
    assert synth.loc["Manquante", "Pôles"] == len(demo.registry()) - len(POLES_2025) - refused
    assert synth.loc["Refusée", "Pôles"] == refused


def test_quality_table_matches_validation_issues(pub):
    expected = sql(
        pub,
        """SELECT v.code, count(DISTINCT c.pole_id) AS poles, count(*) AS n
           FROM completeness c JOIN validation_issues v USING (submission_id)
           WHERE c.period = 2025 GROUP BY 1""",
    ).set_index("code")
    table = parquet(pub, "qualite_problemes").set_index("Code")
    assert set(table.index) == set(expected.index) >= {"justification-missing", "out-of-range"}
    for code, row in expected.iterrows():
        assert table.loc[code, "Pôles concernés"] == row.poles
        assert table.loc[code, "Occurrences"] == row.n
    poles = parquet(pub, "completude_poles").set_index("Pôle")
    assert poles.loc["PTCE-009", "Code du statut"] == "refusee"
    assert poles.loc["PTCE-009", "Erreurs"] >= 1
    assert poles.loc["PTCE-006", "Code du statut"] == "acceptee_avec_avertissements"
    assert poles.loc["PTCE-006", "Avertissements"] >= 1


def test_profile_is_mean_percentile_rank(pub, ref):
    values = sql(
        pub,
        "SELECT pole_id, indicator_code, value FROM current_indicator_values WHERE period = 2025 AND value IS NOT NULL",
    )
    pole, objective = "PTCE-002", ref.main_objectives[0]
    ranks = []
    for ind in ref.indicators_of(objective.code):
        col = values[values.indicator_code == ind.code]["value"]
        mine = values[(values.pole_id == pole) & (values.indicator_code == ind.code)]["value"]
        if len(col) >= 3 and len(mine):
            below, ties = (col < mine.iat[0]).sum(), (col == mine.iat[0]).sum()
            ranks.append(100 * (below + (ties - 1) / 2) / (len(col) - 1))
    profiles = parquet(pub, "profils_poles").set_index("Pôle")
    assert profiles.loc[pole, f"{objective.code} {objective.label}"] == pytest.approx(
        sum(ranks) / len(ranks)
    )
    typo = parquet(pub, "profils_typologie")
    small = typo[typo["Pôles"].between(1, 2)]
    assert len(small) and small["Secret statistique"].all()
    assert small[f"{objective.code} {objective.label}"].isna().all()


def test_masked_cells_get_no_colour(pub):
    """A heat colour would tell a masked score's range: masked cells stay plain."""
    text = (folder(pub) / "profils.html").read_text(encoding="utf-8")
    masked = re.findall(r"<td([^>]*)>secret</td>", text)
    assert masked
    assert not [a for a in masked if "background" in a or re.search(r"\bh\d\b", a)]
    coloured = re.findall(r'<td[^>]*(?:background-color|class="num h\d)[^>]*>\d+</td>', text)
    assert coloured  # unmasked scores are coloured


# --- fiches pôles ---------------------------------------------------------------------------
def test_fiche_shows_own_values_and_masks_small_national_references(pub, ref):
    page = folder(pub) / "poles" / "PTCE-001.html"
    rows = {r[0][:5]: r for r in html_rows(page, "indicateurs") if r[0][:3] == "IND"}
    own = sql(
        pub,
        "SELECT value FROM current_indicator_values WHERE period = 2025 AND pole_id = 'PTCE-001' AND indicator_code = 'IND15'",
    ).iat[0, 0]
    assert fr(rows["IND15"][2]) == own  # the pole's own value
    assert rows["IND15"][3:7] == ["secret"] * 4  # rank, Q1, median, Q3 over 2 poles
    median = sql(
        pub,
        "SELECT median FROM national_indicators WHERE period = 2025 AND indicator_code = 'IND22'",
    ).iat[0, 0]
    assert fr(rows["IND22"][5]) == pytest.approx(median, abs=0.05)
    assert "<svg" in page.read_text(encoding="utf-8")
    long = parquet(pub, "fiches_indicateurs")
    assert len(long) == len(POLES_2025) * len(ref.indicators)


def test_index_links_every_table_and_every_fiche(pub):
    index = (folder(pub) / "index.html").read_text(encoding="utf-8")
    hrefs = set(re.findall(r'href="([^"]+)"', index))
    manifest = json.loads((folder(pub) / "manifest.json").read_text(encoding="utf-8"))
    for t in manifest["tables"]:
        if t["page"]:
            assert t["page"] in hrefs
        assert t["csv"] in hrefs and t["parquet"] in hrefs
    for pole in POLES_2025:
        assert f"poles/{pole}.html" in hrefs
        assert (folder(pub) / "poles" / f"{pole}.html").exists()
    assert not (folder(pub) / "poles" / "PTCE-008.html").exists()  # no 2025 declaration
    for href in hrefs:
        target = href.split("#")[0]
        if target and not target.startswith(("../", "data:")):
            assert (folder(pub) / target).exists(), href


def test_manifest_says_what_fed_the_figures(pub, ref):
    manifest = json.loads((folder(pub) / "manifest.json").read_text(encoding="utf-8"))
    subs = sql(pub, "SELECT submission_id FROM current_submissions WHERE period = 2025")
    assert sorted(s["submission_id"] for s in manifest["submissions"]) == sorted(
        subs["submission_id"]
    )
    assert manifest["referentiel"]["version"] == ref.version
    assert manifest["generated_at"] == NOW.isoformat()
    assert manifest["closed_campaigns"] == []
    assert "tableaux.xlsx" in manifest["files"]


# --- secret, injection, personal data -------------------------------------------------------
def test_small_counts_masked_in_html_xlsx_csv_and_parquet(pub, ref):
    label = ref.indicator_by_code["IND15"].label
    row = next(r for r in csv_rows(pub, "capitalisation") if r[3] == "IND15")
    header = csv_rows(pub, "capitalisation")[0]
    assert row[header.index("Médiane")] == "secret" and row[header.index("Pôles répondants")] == "2"
    ws = openpyxl.load_workbook(folder(pub) / "tableaux.xlsx")["Capitalisation"]
    heads = [c.value for c in ws[4]]
    line = next(r for r in ws.iter_rows(min_row=5, values_only=True) if r[3] == "IND15")
    assert line[heads.index("Médiane")] == "secret"
    assert line[heads.index("Pôles répondants")] == 2
    html = {r[0]: r for r in html_rows(folder(pub) / "capitalisation.html", "capitalisation")}
    assert html[label][3] == "2" and html[label][6] == "secret"
    regions = parquet(pub, "recensement_regions")
    alone = regions[regions["Pôles"] == 1]
    assert len(alone) and alone["Membres"].isna().all() and alone["Secret statistique"].all()


def _all_text(root: Path) -> dict[str, str]:
    """Every file of a publication as text (xlsx unzipped, Parquet decoded)."""
    out = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                out[str(path)] = "".join(z.read(n).decode("utf-8") for n in z.namelist())
        elif path.suffix == ".parquet":
            out[str(path)] = pd.read_parquet(path).to_csv()
        else:
            out[str(path)] = path.read_text(encoding="utf-8")
    return out


def test_pole_text_is_inert_in_html_xlsx_and_csv(pub):
    files = _all_text(folder(pub))
    for name, text in files.items():
        if name.endswith(".html"):
            assert SCRIPT not in text and "<script" not in text, name
    fiche = (folder(pub) / "poles" / "PTCE-003.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fiche
    names = [r[3] for r in csv_rows(pub, "fiches_membres")]
    assert "'" + FORMULA in names
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    raw = (folder(pub) / "donnees" / "fiches_membres.csv").read_text(encoding="utf-8-sig")
    assert ";=HYPERLINK" not in raw and ';"=HYPERLINK' not in raw
    book = openpyxl.load_workbook(folder(pub) / "tableaux.xlsx")
    cells = [c for row in book["Membres des pôles"].iter_rows() for c in row]
    hit = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert hit and all(c.value == "'" + FORMULA and c.data_type == "s" for c in hit)
    with zipfile.ZipFile(folder(pub) / "tableaux.xlsx") as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in z.read(n).decode() or "<f " in z.read(n).decode() for n in sheets)
    # a negative number stays a number
    evol = parquet(pub, "capitalisation").set_index("Code").loc["IND02", "Évolution de la médiane"]
    assert evol < 0
    cap = book["Capitalisation"]
    heads = [c.value for c in cap[4]]
    line = next(r for r in cap.iter_rows(min_row=5, values_only=True) if r[3] == "IND02")
    assert isinstance(line[heads.index("Évolution de la médiane")], int | float)
    row = next(r for r in csv_rows(pub, "capitalisation") if r[3] == "IND02")
    assert row[csv_rows(pub, "capitalisation")[0].index("Évolution de la médiane")].startswith("-")


def test_no_personal_data_anywhere(pub):
    contacts = sql(
        pub, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'contacts'"
    ).iat[0, 0]
    assert contacts in (0, 1)
    for period in (2024, 2025):
        for name, text in _all_text(folder(pub, period)).items():
            assert "Camille Martin" not in text, name
            assert "@exemple.fr" not in text, name
            assert EI_NAME not in text, name
    fiche = (folder(pub) / "poles" / "PTCE-004.html").read_text(encoding="utf-8")
    assert "Entreprise individuelle (nom non publié)" in fiche


# --- site -----------------------------------------------------------------------------------
def test_pages_are_offline_french_and_accessible(pub):
    pages = sorted(folder(pub).rglob("*.html"))
    assert len(pages) == 6 + len(POLES_2025)
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert text.startswith('<!DOCTYPE html>\n<html lang="fr">'), path
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        assert not re.search(r'(src|href)="(https?:)?//', text), path
        assert "<script" not in text
        tables = text.count("<table")
        assert tables and text.count("<caption") == tables, path
        heads = re.findall(r"<th\b[^>]*>", text)
        assert heads and all("scope=" in h for h in heads), path


def test_output_is_byte_identical_for_same_data_and_now(pub, tmp_path):
    before = {p: p.read_bytes() for p in folder(pub).rglob("*") if p.is_file()}
    publish(pub, [2025], now=NOW)
    after = {p: p.read_bytes() for p in folder(pub).rglob("*") if p.is_file()}
    assert before.keys() == after.keys()
    assert [p for p in before if before[p] != after[p]] == []
    assert "tableaux.xlsx" in {p.name for p in before}


def test_publish_skips_unchanged_periods_and_follows_referentiel(pub, ref):
    result = publish(pub, now=NOW)
    assert result.published == [] and sorted(result.skipped) == [2024, 2025]
    raw = referentiel_bytes().decode("utf-8")
    new = "Chiffre des membres (libellé de test)"
    (pub.home / "referentiel.toml").write_text(
        raw.replace('label = "Chiffre d\'affaires consolidé des membres"', f'label = "{new}"'),
        encoding="utf-8",
    )
    try:
        result = publish(pub, now=NOW)
        assert sorted(result.published) == [2024, 2025]
        assert new in (folder(pub) / "capitalisation.html").read_text(encoding="utf-8")
        assert new in ";".join(";".join(r) for r in csv_rows(pub, "capitalisation"))
    finally:
        (pub.home / "referentiel.toml").unlink()
        publish(pub, now=NOW)


def test_root_index_lists_published_periods(pub):
    text = (pub.publications_for("interne") / "index.html").read_text(encoding="utf-8")
    assert 'href="2024/index.html"' in text and 'href="2025/index.html"' in text


# --- the swap into place --------------------------------------------------------------------
@pytest.mark.parametrize("exchange", [True, False])
def test_exchange_replaces_a_site_in_one_step(tmp_path, monkeypatch, exchange):
    final, tmp = tmp_path / "2025", tmp_path / ".tmp-2025-1"
    final.mkdir()
    (final / "index.html").write_text("old", encoding="utf-8")
    tmp.mkdir()
    (tmp / "index.html").write_text("new", encoding="utf-8")
    if not exchange:
        monkeypatch.setattr(S, "_rename_exchange", lambda a, b: False)
    S._exchange(tmp, final)
    assert (final / "index.html").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025"]


def test_leftovers_of_an_interrupted_publication_are_removed(pub):
    stale = pub.publications_for("interne") / ".tmp-2025-99999"
    stale.mkdir()
    (stale / "index.html").write_text("à moitié", encoding="utf-8")
    publish(pub, [2025], now=NOW)
    assert not stale.exists()


def test_xlsx_has_french_headers_and_number_formats(pub):
    book = openpyxl.load_workbook(folder(pub) / "tableaux.xlsx")
    assert book.sheetnames[0] == "Notes"
    ws = book["Emplois et budgets"]
    heads = [c.value for c in ws[4]]
    assert heads[:5] == ["Groupe", "Indicateur", "Code", "Unité", "Pôles répondants"]
    budget = next(r for r in ws.iter_rows(min_row=5) if r[2].value == "IND25")
    assert budget[heads.index("Médiane")].number_format == '#,##0" €"'
    assert ws.freeze_panes == "B5"
    props = book.properties
    assert props.created == NOW.replace(tzinfo=None)
    data = (folder(pub) / "tableaux.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 2, 2, 8, 0, 0)}


def test_closing_a_campaign_republishes_with_its_date(tmp_path, ref):
    from ptce_pipeline.ingestion.corrections import campaign

    settings = make_home(tmp_path / "home")
    for pid in POLES_2024[:3]:
        drop(settings, pid, f"{pid}.xlsx", workbook(ref, filled(ref, pid, 2024)))
    run_ingest(settings)
    assert publish(settings, now=NOW).published == [2024]
    notes = (folder(settings, 2024) / "index.html").read_text(encoding="utf-8")
    assert "Campagnes closes : aucune." in notes and "chiffres provisoires" in notes
    campaign(settings, 2024, close=True, reason="fin de campagne", by="test")
    assert publish(settings, now=NOW).published == [2024]
    manifest = json.loads((folder(settings, 2024) / "manifest.json").read_text(encoding="utf-8"))
    closed = manifest["closed_campaigns"]
    assert [c["period"] for c in closed] == [2024] and manifest["campaign"]["closed"]
    day = paris(dt.datetime.fromisoformat(closed[0]["closed_at"]))
    text = (folder(settings, 2024) / "index.html").read_text(encoding="utf-8")
    assert f"Campagne 2024 close le {day.day}" in text and "chiffres définitifs" in text


def test_docs_name_every_published_page(pub):
    """docs/exploitation.md, "Publications", names every file a publication holds."""
    root = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
    doc = (root / "docs" / "exploitation.md").read_text(encoding="utf-8")
    section = doc.split("\n## Publications\n")[1].split("\n## ")[0]
    public = pub.publications_for("public") / "2025"
    for path in [*folder(pub).iterdir(), *public.iterdir(), *(public / "donnees").iterdir()]:
        name = path.name if path.is_file() else f"{path.name}/"
        if name == "poles/":
            name = "poles/<pole_id>.html"
        elif name == "donnees/":
            name = "donnees/<table>.csv"
        elif path.parent.name == "donnees":
            name = "donnees/<table>" + "".join(path.suffixes[-2:] if ".schema" in path.suffixes else path.suffixes)  # fmt: skip
        assert f"`{name}`" in section, name


def test_colours_keep_readable_contrast():
    from ptce_pipeline.publication.tables import CLASS_STYLES, SECRET_TEXT, contrast

    for name, (fill, text, _bold) in CLASS_STYLES.items():
        assert contrast(fill or "#ffffff", text) >= 4.5, name
    assert contrast("#ffffff", SECRET_TEXT) >= 4.5
    assert contrast("#000091", "#ffffff") >= 4.5  # column headers
