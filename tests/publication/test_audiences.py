"""Two audiences per publication: the open-data release (statistical secret audited with a
linear program, open-data formats checked by frictionless), the internal release (complete,
« Diffusion restreinte », never linked from the public one) and each pole's own fiche."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from helpers import auditor
from helpers.periods import national_period
from helpers.review import sign_off
from helpers.workbooks import make_home

from ptce_pipeline.catalogue.referentiel import load_referentiel, referentiel_bytes
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.publication import data as D
from ptce_pipeline.publication import fmt as F
from ptce_pipeline.publication import opendata, publish
from ptce_pipeline.publication.audience import public_tables
from ptce_pipeline.publication.site import build_tables
from ptce_pipeline.store.warehouse import connect
from ptce_pipeline.template import demo

NOW = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)
PERIOD = 2025


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory, ref):
    settings = make_home(tmp_path_factory.mktemp("aud") / "home")
    settings.campaigns_path.unlink()
    settings.registry_path.unlink()
    demo.prepare(settings, ref, 2012)
    run_ingest(settings)
    sign_off(settings)  # the public release rests on signed-off declarations
    publish(settings, [2024, PERIOD], now=NOW)
    return settings


@pytest.fixture(scope="module")
def big_home(tmp_path_factory):
    settings = national_period(tmp_path_factory.mktemp("big") / "home", n=200, period=PERIOD)
    publish(settings, [PERIOD], now=NOW)
    return settings


def public(settings, period: int = PERIOD) -> Path:
    return settings.publications_for("public") / str(period)


def internal(settings, period: int = PERIOD) -> Path:
    return settings.publications_for("interne") / str(period)


def _truth(settings, tmp_path: Path) -> Path:
    """The public tables without their masks, written the same way (the auditor's answer key)."""
    ref = load_referentiel(settings.referentiel_path)
    con = connect(settings.snapshot_db, read_only=True)
    try:
        data = D.load_period(con, ref, PERIOD, NOW, public=True)
    finally:
        con.close()
    tables, _, _ = build_tables(ref, data)
    folder = tmp_path / "verite"
    folder.mkdir()
    opendata.write_data_files(folder, public_tables(ref, data, tables, secret=False))
    return folder


def _audit(settings, tmp_path: Path) -> tuple[auditor.Model, list[str]]:
    model = auditor.build(public(settings))
    truth = auditor.truth_of(_truth(settings, tmp_path), model)
    cells = {n for n in model.names if not n.endswith("|Somme")}  # Somme: a hidden sum
    assert set(truth) == cells  # every masked cell has a true value to compare
    return model, auditor.exposed(model, truth)


def test_no_masked_cell_of_the_demo_can_be_recovered(demo_home, tmp_path):
    model, exposed = _audit(demo_home, tmp_path)
    assert model.names, "the demo has masked cells"
    assert exposed == []


def test_a_region_alone_below_the_threshold_stays_secret_at_national_scale(big_home, tmp_path):
    rows = auditor.read_csv(public(big_home) / "donnees" / "recensement_regions.csv")
    corse = next(r for r in rows if r["Région"] == "Corse")
    assert corse["Pôles"] == "1" and corse["Emplois directs (ETP)"] == F.SECRET
    masked = [r for r in rows if r["Emplois directs (ETP)"] == F.SECRET]
    assert len(masked) >= 2  # a second region protects it (secondary suppression)
    model, exposed = _audit(big_home, tmp_path)
    assert any("recensement_regions" in n for n in model.names)
    assert exposed == []


def test_the_suppression_is_deterministic(demo_home):
    before = {p.name: p.read_bytes() for p in (public(demo_home) / "donnees").glob("*.csv")}
    publish(demo_home, [PERIOD], now=NOW)
    after = {p.name: p.read_bytes() for p in (public(demo_home) / "donnees").glob("*.csv")}
    assert before == after


def test_every_public_csv_is_valid_open_data(demo_home):
    from frictionless import Resource, Schema

    csvs = sorted((public(demo_home) / "donnees").glob("*.csv"))
    assert csvs
    for path in csvs:
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert raw.decode("utf-8").split("\r\n", 1)[0].count(";") == 0
        descriptor = json.loads(path.with_suffix(".schema.json").read_text(encoding="utf-8"))
        schema = Schema.from_descriptor(descriptor)
        resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)
        report = resource.validate()
        assert report.valid, (path.name, report.flatten(["rowNumber", "fieldName", "type"]))


def test_dcat_catalogue_parses_and_names_every_file_with_its_checksum(demo_home):
    folder = public(demo_home)
    dcat = json.loads((folder / "catalogue.jsonld").read_text(encoding="utf-8"))
    assert isinstance(dcat["@context"], dict)  # inline: parses offline
    assert dcat["@type"] == "dcat:Catalog"
    dataset = dcat["dcat:dataset"][0]
    assert dataset["dct:license"]["@id"] == opendata.LICENCE
    assert dataset["dct:temporal"]["dcat:startDate"]["@value"] == f"{PERIOD}-01-01"
    assert dataset["dct:publisher"]["foaf:name"]
    listed = {
        d["dct:identifier"]: d["spdx:checksum"]["spdx:checksumValue"]["@value"]
        for d in dataset["dcat:distribution"]
    }
    files = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and p.name not in ("catalogue.jsonld", "manifest.json")
    }
    assert listed == files
    assert all(d["dcat:mediaType"]["@id"] for d in dataset["dcat:distribution"])


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hrefs: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.hrefs += [v for k, v in attrs if k in ("href", "src") and v]


def _public_texts(folder: Path) -> dict[str, list[str]]:
    """Every piece of text of every public file, opened with its own reader."""
    out: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".html":
            parser = _Text()
            parser.feed(path.read_text(encoding="utf-8"))
            out[name] = parser.parts
        elif path.suffix == ".csv":
            out[name] = [c for row in auditor.read_csv(path) for c in row.values()]
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            out[name] = [
                str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                for c in row if c is not None
            ]  # fmt: skip
        elif path.suffix == ".parquet":
            table = pq.read_table(path).to_pylist()
            out[name] = [str(v) for row in table for v in row.values() if v is not None]
        else:
            out[name] = [path.read_text(encoding="utf-8")]
    return out


def _forms(value: float, kind: str) -> set[str]:
    plain = f"{value:g}" if float(value).is_integer() else repr(round(float(value), 6))
    return {F.number(value, kind), plain, plain.replace(".", ",")}


def test_no_restricted_value_of_the_demo_appears_in_the_public_release(demo_home, ref):
    con = connect(demo_home.snapshot_db, read_only=True)
    try:
        values = con.execute(
            "SELECT indicator_code, value FROM current_indicator_values "
            "WHERE period = ? AND value IS NOT NULL",
            [PERIOD],
        ).fetchall()
        etp = con.execute(
            "SELECT etp FROM current_members WHERE period = ? AND etp IS NOT NULL", [PERIOD]
        ).fetchall()
        texts = con.execute(
            "SELECT justification FROM current_criteria WHERE period = ? "
            "AND length(justification) > 12",
            [PERIOD],
        ).fetchall()
    finally:
        con.close()
    folder = public(demo_home)
    found = _public_texts(folder)
    aggregates: set[str] = set()  # published aggregates that passed the rules
    for path in (folder / "donnees").glob("*.csv"):
        if path.stem == "annuaire_poles":
            continue
        for row in auditor.read_csv(path):
            for cell in row.values():
                if cell and cell != F.SECRET and auditor._is_number(cell):
                    value = float(cell)
                    aggregates |= _forms(value, "num")
                    aggregates |= {F.number(value, k) for k in ("fte", "euros", "count", "percent")}
    restricted = set()
    for code, value in values:
        kind = ref.indicator_by_code[code].kind
        restricted |= {f for f in _forms(value, kind) if len(f.strip("0,. ")) >= 4}
    for (value,) in etp:
        restricted |= {f for f in _forms(value, "fte") if len(f.strip("0,. ")) >= 4}
    restricted -= aggregates
    restricted |= {t for (t,) in texts}
    assert restricted
    leaks = []
    for name, parts in found.items():
        tokens = set()
        for part in parts:
            tokens |= set(re.split(r"[\s;|()«»:]+", part)) | {part.strip()}
        for value in restricted:
            if value in tokens or (len(value) > 12 and any(value in p for p in parts)):
                leaks.append((name, value))
    assert leaks == []


def test_public_html_and_xlsx_carry_the_csv_masks(demo_home):
    folder = public(demo_home)
    csv_secrets = sum(
        row.count(F.SECRET)
        for p in (folder / "donnees").glob("*.csv")
        for row in [p.read_text(encoding="utf-8")]
    )
    book = openpyxl.load_workbook(folder / "tableaux.xlsx", read_only=True)
    xlsx_secrets = sum(
        1
        for ws in book.worksheets
        if ws.title != "Notes"
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c == F.SECRET
    )
    html = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
    html_secrets = len(re.findall(r">\s*secret\s*<", html))
    assert csv_secrets > 0
    assert xlsx_secrets == csv_secrets
    assert html_secrets == csv_secrets


def test_each_pole_gets_its_own_fiche_and_nobody_elses(demo_home):
    manifest = json.loads((internal(demo_home) / "manifest.json").read_text(encoding="utf-8"))
    delivered = manifest["fiches_delivered"]
    assert delivered
    for folder in sorted(demo_home.inbox.iterdir()):
        fiche = folder / "retours" / f"fiche_{PERIOD}.html"
        if folder.name not in delivered:
            assert not fiche.exists()
            continue
        text = fiche.read_text(encoding="utf-8")
        assert set(re.findall(r"PTCE-\d{3}", text)) == {folder.name}
        assert "Diffusion restreinte" in text
        assert 'name="audience" content="pole"' in text
        assert 'href="' not in text.split("<main", 1)[1]  # nothing to follow, nowhere to go


def test_internal_release_is_complete_marked_and_never_linked_from_public(demo_home):
    inside, outside = internal(demo_home), public(demo_home)
    manifest = json.loads((inside / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audience"] == "interne"
    keys = {t["key"] for t in manifest["tables"]}
    assert {"completude_poles", "fiches_indicateurs", "profils_poles"} <= keys
    for page in inside.rglob("*.html"):
        assert "Diffusion restreinte" in page.read_text(encoding="utf-8"), page
    with zipfile.ZipFile(inside / "tableaux.xlsx") as z:
        assert [n for n in z.namelist() if n.startswith("xl/worksheets/")]
    book = openpyxl.load_workbook(inside / "tableaux.xlsx", read_only=True)
    for ws in book.worksheets:
        cells = [c for row in ws.iter_rows(max_row=3, values_only=True) for c in row if c]
        assert any("Diffusion restreinte" in str(c) for c in cells), ws.title
    pub = json.loads((outside / "manifest.json").read_text(encoding="utf-8"))
    assert pub["audience"] == "public" and pub["provisional"] is True
    assert not {"completude_poles", "fiches_indicateurs", "profils_poles"} & {
        t["key"] for t in pub["tables"]
    }
    for page in outside.rglob("*.html"):
        parser = _Text()
        parser.feed(page.read_text(encoding="utf-8"))
        assert "provisoires" in " ".join(parser.parts)
        for href in parser.hrefs:
            if href.startswith(("data:", "#", "https://", "http://")):
                continue
            target = (page.parent / href.split("#")[0]).resolve()
            assert target.is_relative_to(outside.resolve()), (page.name, href)
            assert target.exists(), (page.name, href)
    assert not (outside / "poles").exists()


def test_changing_a_diffusion_level_republishes_both(demo_home, tmp_path):
    text = referentiel_bytes().decode("utf-8")
    edited = text.replace('code = "IND22"\n', 'code = "IND22"\ndiffusion = "publique"\n', 1)
    assert edited != text
    path = demo_home.home / "referentiel.toml"
    path.write_text(edited, encoding="utf-8")
    try:
        result = publish(demo_home, now=NOW)
        assert PERIOD in result.published
        sha = hashlib.sha256(edited.encode("utf-8")).hexdigest()
        for folder in (internal(demo_home), public(demo_home)):
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            assert manifest["referentiel_sha256"] == sha
        rows = auditor.read_csv(public(demo_home) / "donnees" / "recensement_emplois_budgets.csv")
        jobs = next(r for r in rows if r["Code"] == "IND22")
        assert jobs["Total"] != F.SECRET  # a public field is not masked in aggregates
        regions = auditor.read_csv(public(demo_home) / "donnees" / "recensement_regions.csv")
        assert F.SECRET not in {r["Emplois directs (ETP)"] for r in regions}
    finally:
        path.unlink()
        publish(demo_home, now=NOW)


def test_public_per_pole_fields_follow_the_referentiel(demo_home, ref):
    rows = auditor.read_csv(public(demo_home) / "donnees" / "annuaire_poles.csv")
    headers = set(rows[0])
    public_labels = {f.label for f in ref.identity if f.public and f.key in D.PUBLIC_IDENTITY}
    assert (
        {"Nom du pôle", "Région", "Année de création"}
        <= headers
        <= public_labels
        | {
            "Pôle",
            "Membres",
        }
    )
    members = auditor.read_csv(public(demo_home) / "donnees" / "annuaire_membres.csv")
    assert members and "ETP" not in members[0] and "SIRET" not in members[0]
    hidden = [m for m in members if m["Forme juridique"] == "Entreprise individuelle"]
    assert all(m["Organisation membre"].startswith("Entreprise individuelle") for m in hidden)


def test_a_fiche_never_follows_a_link_planted_in_retours(tmp_path):
    from ptce_pipeline.publication.site import deliver_fiche

    settings = make_home(tmp_path / "home")
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (settings.inbox / "PTCE-001").mkdir(parents=True)
    (settings.inbox / "PTCE-001" / "retours").symlink_to(elsewhere)
    assert deliver_fiche(settings, "PTCE-001", PERIOD, "<p>fiche</p>") is None
    retours = settings.inbox / "PTCE-002" / "retours"
    retours.mkdir(parents=True)
    (retours / f".fiche_{PERIOD}.html.tmp").symlink_to(elsewhere / "piege.html")
    (retours / f"fiche_{PERIOD}.html").symlink_to(elsewhere / "cible.html")
    path = deliver_fiche(settings, "PTCE-002", PERIOD, "<p>fiche</p>")
    assert path is not None and not path.is_symlink()
    assert path.read_text(encoding="utf-8") == "<p>fiche</p>"
    assert list(elsewhere.iterdir()) == []
    assert deliver_fiche(settings, "PTCE-404", PERIOD, "<p>fiche</p>") is None
