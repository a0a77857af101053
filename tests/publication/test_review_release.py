"""The publications during and after the national review (issue 19): the public release rests on
signed-off declarations only (its secret computed on them alone, a pole left out leaving no
trace in it); the internal release shows every declaration in force with a banner and a flag
per pole; a review decision republishes; a closed campaign's final figures leave out what is
not signed off, or keep what waits for review with `--keep-unreviewed`, and say so."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import auditor
from helpers.periods import national_period
from helpers.review import sign_off
from helpers.workbooks import drop, filled, make_home, q, workbook

from ptce_pipeline.catalogue.referentiel import load_referentiel
from ptce_pipeline.cli.parser import main
from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.review import decide
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.publication import fmt as F
from ptce_pipeline.publication import publish, up_to_date
from ptce_pipeline.store.journal import Journal

NOW = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)
PERIOD = 2024
POLES = [f"PTCE-{i:03d}" for i in range(1, 6)]
SIGNED, WAITING, SENT_BACK = POLES[:3], POLES[3], POLES[4]
BIG, REGION = 2025, "11"  # test_audiences' period; Île-de-France


def make(ref, pole_id: str, change=None) -> bytes:
    data = copy.deepcopy(filled(ref, pole_id, PERIOD))
    if change is not None:
        change(data)
    return workbook(ref, data)


def reviewed_home(root: Path, ref):
    """Five declarations: three signed off, one waiting for review, one sent back."""
    settings = make_home(root, PTCE_USER="relecture")
    for pid in POLES:
        drop(settings, pid, f"{pid}.xlsx", make(ref, pid))
    run_ingest(settings)
    sids = sid_by_pole(settings)
    sign_off(settings, [sids[p] for p in SIGNED])
    decide(settings, [sids[SENT_BACK]], "a_corriger", comment="Vérifiez IND05", by="relecture")
    return settings


def sid_by_pole(settings) -> dict[str, int]:
    rows = q(
        settings.live_db,
        "SELECT pole_id, submission_id FROM submissions WHERE status IN "
        "('acceptee', 'acceptee_avec_avertissements')",
    )
    return dict(rows)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, ref):
    settings = reviewed_home(tmp_path_factory.mktemp("revue") / "home", ref)
    assert publish(settings, now=NOW).published == [PERIOD]
    return settings


def public(settings) -> Path:
    return settings.publications_for("public") / str(PERIOD)


def internal(settings) -> Path:
    return settings.publications_for("interne") / str(PERIOD)


def by_hand(settings, poles: list[str]) -> pd.DataFrame:
    """Per indicator, over the given poles' declarations in force: poles reporting and total."""
    rows = q(
        settings.snapshot_db,
        "SELECT indicator_code, count(value), sum(value) FROM current_indicator_values "
        "WHERE period = ? AND list_contains(?, pole_id) AND value IS NOT NULL GROUP BY 1",
        PERIOD,
        poles,
    )
    return pd.DataFrame(rows, columns=["code", "n", "total"]).set_index("code")


def xlsx_table(path: Path, sheet: str) -> list[dict]:
    """The rows of one sheet of tableaux.xlsx, under its header row (the one with « Code »)."""
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if "Code" in r)
    header = rows[at]
    body = [dict(zip(header, r, strict=False)) for r in rows[at + 1 :]]
    return [r for r in body if r.get("Code")]  # the notes below the table have no code


def assert_rests_on(folder: Path, settings, poles: list[str]) -> int:
    """The capitalisation table of a release (CSV and xlsx) equals the aggregate computed by
    hand over `poles` only → how many totals were compared (masked ones are skipped)."""
    truth = by_hand(settings, poles)
    csv_rows = auditor.read_csv(folder / "donnees" / "capitalisation.csv")
    sheet = {r["Code"]: r for r in xlsx_table(folder / "tableaux.xlsx", "Capitalisation")}
    compared = 0
    for row in csv_rows:
        code = row["Code"]
        n = int(truth.loc[code, "n"]) if code in truth.index else 0
        assert int(row["Pôles répondants"]) == n, code
        assert sheet[code]["Pôles répondants"] == n, code
        if row["Total"] in ("", F.SECRET):
            continue
        assert float(row["Total"]) == pytest.approx(float(truth.loc[code, "total"])), code
        assert float(sheet[code]["Total"]) == pytest.approx(float(truth.loc[code, "total"])), code
        compared += 1
    return compared


def test_the_public_release_rests_on_signed_off_declarations_only(mixed):
    directory = auditor.read_csv(public(mixed) / "donnees" / "annuaire_poles.csv")
    assert [r["Pôle"] for r in directory] == SIGNED
    assert assert_rests_on(public(mixed), mixed, SIGNED) > 5
    index = (public(mixed) / "index.html").read_text(encoding="utf-8")
    assert "validées par l&#x27;équipe nationale, 3 sur 5 déclarations en vigueur" in index
    manifest = json.loads((public(mixed) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["review"] == {"states": ["validee"], "declarations": 3, "in_force": 5}
    text = "\n".join(p.read_text(encoding="utf-8") for p in public(mixed).rglob("*.html"))
    assert WAITING not in text and SENT_BACK not in text


def test_the_internal_release_shows_everything_with_a_banner_and_a_flag_per_pole(mixed):
    assert assert_rests_on(internal(mixed), mixed, POLES) > 5
    index = (internal(mixed) / "index.html").read_text(encoding="utf-8")
    assert "2 déclarations sur 5 ne sont pas encore validées : chiffres provisoires" in index
    for key in ("labellisation_poles", "profils_poles"):
        frame = pd.read_parquet(internal(mixed) / "donnees" / f"{key}.parquet")
        flags = dict(zip(frame["Pôle"], frame["Relecture"], strict=True))
        assert flags == {
            **dict.fromkeys(SIGNED, "Validée"),
            WAITING: "À relire",
            SENT_BACK: "À corriger",
        }
    completude = pd.read_parquet(internal(mixed) / "donnees" / "completude_poles.parquet")
    codes = dict(zip(completude["Pôle"], completude["Code de relecture"], strict=True))
    assert codes[WAITING] == "a_revoir" and codes[SENT_BACK] == "a_corriger"
    assert pd.isna(codes["PTCE-006"])  # missing: nothing to review
    page = (internal(mixed) / "completude.html").read_text(encoding="utf-8")
    assert "3 validée(s), 1 à relire, 1 à corriger" in page
    sent_back = (internal(mixed) / "poles" / f"{SENT_BACK}.html").read_text(encoding="utf-8")
    assert "renvoyée au pôle pour correction" in sent_back
    manifest = json.loads((internal(mixed) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["review"]["counts"] == {"a_revoir": 1, "validee": 3, "a_corriger": 1}
    assert {s["review_state"] for s in manifest["submissions"]} == {
        "validee",
        "a_revoir",
        "a_corriger",
    }


def test_review_wording_is_for_readers_not_developers(mixed):
    from test_pages import DEVELOPER, read

    pages = sorted(mixed.publications_dir.rglob("*.html"))
    pages += sorted(mixed.inbox.glob(f"*/retours/fiche_{PERIOD}.html"))
    found = {}
    for path in pages:
        hits = sorted({m.group(0) for m in DEVELOPER.finditer(" ".join(read(path).text))})
        if hits:
            found[path.name] = hits
    assert len(pages) > 10 and found == {}


def test_each_pole_fiche_says_whether_its_declaration_is_validated(mixed):
    def fiche(pole: str) -> str:
        path = mixed.inbox / pole / "retours" / f"fiche_{PERIOD}.html"
        return path.read_text(encoding="utf-8")

    assert re.search(
        r"n° \d+ validée par l&#x27;équipe nationale le \d+ \w+ 20\d\d", fiche(SIGNED[0])
    )
    assert "pas encore validée par l&#x27;équipe nationale" in fiche(WAITING)
    assert "renvoyée au pôle pour correction" in fiche(SENT_BACK)


def test_a_pole_left_out_leaves_no_trace_in_the_public_release(tmp_path, ref):
    """What the waiting pole declares changes the internal release, never a byte of the public
    data: nothing of it can be inferred from the public files, by difference or otherwise."""
    settings = reviewed_home(tmp_path / "home", ref)
    publish(settings, now=NOW)

    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((folder / "donnees").iterdir())}

    before_public, before_internal = files(public(settings)), files(internal(settings))

    def bigger(data):
        data.indicators["IND22"] = 9999
        data.members[0]["etp"] = 4321

    drop(settings, WAITING, "corrige.xlsx", make(ref, WAITING, bigger))
    run_ingest(settings)
    assert publish(settings, now=NOW).published == [PERIOD]
    assert files(public(settings)) == before_public
    changed = {k for k, v in files(internal(settings)).items() if before_internal.get(k) != v}
    assert "capitalisation.csv" in changed and "recensement_emplois_budgets.csv" in changed


def test_a_review_decision_republishes_the_period(tmp_path, ref):
    settings = reviewed_home(tmp_path / "home", ref)
    assert publish(settings, now=NOW).published == [PERIOD]
    assert up_to_date(settings) == [PERIOD]
    assert publish(settings, now=NOW).skipped == [PERIOD]
    decide(settings, [sid_by_pole(settings)[WAITING]], "validee", comment=None, by="relecture")
    assert up_to_date(settings) is None
    assert publish(settings, now=NOW).published == [PERIOD]
    directory = auditor.read_csv(public(settings) / "donnees" / "annuaire_poles.csv")
    assert [r["Pôle"] for r in directory] == [*SIGNED, WAITING]
    assert assert_rests_on(public(settings), settings, [*SIGNED, WAITING]) > 5


def close(settings, capsys, *flags: str) -> str:
    code = main(["campaign", "close", str(PERIOD), "--home", str(settings.home), *flags])
    assert code == 0
    return capsys.readouterr().out


def test_closing_leaves_unsigned_declarations_out_of_the_final_figures(tmp_path, ref, capsys):
    settings = reviewed_home(tmp_path / "home", ref)
    sids = sid_by_pole(settings)
    out = close(settings, capsys)
    assert (
        f"2 déclarations non validées sont exclues des chiffres définitifs : "
        f"n° {sids[WAITING]} ({WAITING}), n° {sids[SENT_BACK]} ({SENT_BACK}) ; validez-les "
        "(`ptce review approve`) ou rouvrez la campagne (`ptce campaign reopen 2024`)"
    ) in out
    record = [r for r in Journal(settings).read() if r["type"] == "campaign_close"][-1]
    assert record["keep_unreviewed"] is False
    publish(settings, now=NOW)
    for folder in (public(settings), internal(settings)):
        assert assert_rests_on(folder, settings, SIGNED) > 5
        notes = (folder / "index.html").read_text(encoding="utf-8")
        assert "Chiffres définitifs établis sur les seules déclarations validées" in notes
        assert "2 déclarations non validées en sont exclues" in notes
    internal_notes = (internal(settings) / "index.html").read_text(encoding="utf-8")
    assert f"n° {sids[WAITING]} ({WAITING})" in internal_notes
    assert WAITING not in (public(settings) / "index.html").read_text(encoding="utf-8")
    # a journal written before the flag existed replays as a default close
    path = settings.journal_path
    lines = path.read_text(encoding="utf-8").splitlines()
    old = [
        json.dumps({k: v for k, v in json.loads(x).items() if k != "keep_unreviewed"})
        if '"campaign_close"' in x
        else x
        for x in lines
    ]
    path.write_text("\n".join(old) + "\n", encoding="utf-8")
    rebuilt = corrections.rebuild(settings, tmp_path / "rebuilt")
    assert "Identique à l'entrepôt vivant." in rebuilt.lines


def test_closing_with_keep_unreviewed_keeps_what_waits_for_review(tmp_path, ref, capsys):
    settings = reviewed_home(tmp_path / "home", ref)
    sids = sid_by_pole(settings)
    out = close(settings, capsys, "--keep-unreviewed")
    assert (
        f"1 déclaration à relire reste dans les chiffres définitifs (--keep-unreviewed) : "
        f"n° {sids[WAITING]} ({WAITING})."
    ) in out
    assert (
        f"1 déclaration non validée est exclue des chiffres définitifs : n° {sids[SENT_BACK]}"
        in out
    )
    assert q(
        settings.live_db, "SELECT keep_unreviewed FROM campaigns WHERE period = ?", PERIOD
    ) == [(True,)]
    publish(settings, now=NOW)
    kept = [*SIGNED, WAITING]
    for folder in (public(settings), internal(settings)):
        assert assert_rests_on(folder, settings, kept) > 5
        notes = (folder / "index.html").read_text(encoding="utf-8")
        assert "Chiffres définitifs établis sur 4 déclarations : 3 validées" in notes
        assert "1 restée à relire" in notes
    rebuilt = corrections.rebuild(settings, tmp_path / "rebuilt")
    assert "Identique à l'entrepôt vivant." in rebuilt.lines  # replay reads the flag
    # reopening clears it: the figures are provisional again, the public on signed-off ones
    assert main(["campaign", "reopen", str(PERIOD), "--home", str(settings.home)]) == 0
    assert q(
        settings.live_db, "SELECT keep_unreviewed FROM campaigns WHERE period = ?", PERIOD
    ) == [(False,)]
    assert publish(settings, now=NOW).published == [PERIOD]
    assert assert_rests_on(public(settings), settings, SIGNED) > 5
    assert assert_rests_on(internal(settings), settings, POLES) > 5


def test_the_public_secret_holds_on_its_own_smaller_population(tmp_path):
    """In one region only two poles are signed off, elsewhere one pole in four waits: the public
    release masks that region on its two poles (the internal release, on every declaration,
    need not), and no masked cell of it can be recovered by difference (the linear-program
    audit, its truth being the signed-off poles)."""
    from test_audiences import _audit

    seen: dict[str, int] = {}

    def waiting(i: int, region: str) -> bool:
        seen[region] = seen.get(region, 0) + 1
        return seen[region] > 2 if region == REGION else i % 4 == 0

    settings = national_period(tmp_path / "home", n=120, period=BIG, waiting=waiting)
    assert seen[REGION] >= 3
    publish(settings, [BIG], now=NOW)

    def jobs(audience: str) -> dict[str, tuple[str, str]]:
        path = settings.publications_for(audience) / str(BIG) / "donnees"
        rows = auditor.read_csv(path / "recensement_regions.csv")
        if not rows:  # the internal CSV is French (BOM, « ; »)
            raw = (path / "recensement_regions.csv").read_text(encoding="utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
        return {r["Région"]: (r["Pôles"], r["Emplois directs (ETP)"]) for r in rows}

    name = load_referentiel().geography.regions[REGION]
    assert jobs("public")[name] == ("2", F.SECRET)
    assert jobs("interne")[name][0] == str(seen[REGION])
    assert jobs("interne")[name][1] != F.SECRET
    model, exposed = _audit(settings, tmp_path)
    assert any("recensement_regions" in n for n in model.names)
    assert exposed == []
