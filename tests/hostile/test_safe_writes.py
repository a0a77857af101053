"""Issue 15, item 4 and the receipt names: nothing a pole does to its own folder makes the
pipeline write or remove anything through a link, and no receipt ever overwrites another.

Real `ptce ingest` processes held at the fault point `during_feedback` while the test swaps a
pole's `retours/` (or the pole's folder itself) for a link or a file; real runs with files
whose names reduce to the same stem and with a clock stepped back (`PTCE_NOW`); the writer
itself called on a folder holding a file or a link under the receipt's name. Each case is
recorded in the tally (family « écritures »)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from helpers.procs import Procs, env_for, harness_url, query, reached, release, wait_until
from helpers.tally import case
from helpers.workbooks import drop

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.config import load_settings
from ptce_pipeline.feedback import annotated_workbook, feedback_paths, write_feedback
from ptce_pipeline.fsafe import UnsafePath
from ptce_pipeline.ingestion.run import run_ingest

DATA = Path(__file__).resolve().parents[1] / "data"
T0 = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_error(wb) -> None:
    """A refusal: so that the pole gets an annotated copy as well as a receipt."""
    wb["Indicateurs"]["D14"] = "beaucoup"


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def _swap(home, how: str, outside: Path) -> None:
    pole = home.inbox / "PTCE-001"
    if how == "retours-lien":
        shutil.rmtree(pole / "retours")
        os.symlink(outside, pole / "retours")
    elif how == "retours-fichier":
        shutil.rmtree(pole / "retours")
        (pole / "retours").write_bytes(b"un fichier, pas un dossier")
    else:  # the pole's whole folder replaced by a link to a folder with its own `retours/`
        pole.rename(outside.parent / "ancien-dossier")
        (outside / "retours").mkdir()
        os.symlink(outside, pole)


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("how", ["retours-lien", "retours-fichier", "dossier-lien"])
def test_a_folder_swapped_during_the_run_gets_nothing_through_it(
    home, make_workbook, procs, tmp_path, how
):
    outside = tmp_path / "ailleurs"  # outside the home: must stay as the test left it
    outside.mkdir()
    faults = tmp_path / "fautes"
    faults.mkdir()
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", edit=one_error))
    drop(home, "PTCE-002", "suivi.xlsx", make_workbook("PTCE-002"))
    env = env_for(
        home,
        api_url=harness_url(),
        PTCE_FAULT="pause:during_feedback",
        PTCE_FAULT_DIR=str(faults),
    )
    run = procs.ptce("ingest", "--home", str(home.home), "--settle", "0", env=env)
    assert wait_until(reached(faults, "during_feedback").exists, timeout=240), "no feedback"
    _swap(home, how, outside)
    before = files_under(outside)
    release(faults, "during_feedback")
    result = procs.wait(run)

    decided = {p for (p,) in query(home.live_db, "SELECT pole_id FROM submissions")}
    journal = [json.loads(x) for x in home.journal_path.read_text("utf-8").splitlines()]
    held = {
        "the link is not followed": files_under(outside) == before,
        "both decisions stand": decided == {"PTCE-001", "PTCE-002"}
        and sum(r["type"] == "decision" for r in journal) == 2,
        "the other pole got its receipt": len(
            list((home.inbox / "PTCE-002" / "retours").glob("*_recu.html"))
        )
        == 1,
        "reported in French": "retour au pôle PTCE-001 non écrit pour suivi.xlsx" in result.out
        and ("lien symbolique" if how != "retours-fichier" else "est un fichier") in result.out,
        "exit 1 (attention)": result.code == 1,
    }
    if how == "retours-fichier":
        held["the file is untouched"] = (
            home.inbox / "PTCE-001" / "retours"
        ).read_bytes() == b"un fichier, pas un dossier"
    case("écritures", f"{how} pendant l'exécution", all(held.values()))
    assert all(held.values()), (held, result)


def test_two_files_with_one_stem_get_two_receipts(home, make_workbook, monkeypatch):
    monkeypatch.setenv("PTCE_NOW", T0.isoformat())
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", edit=one_error))
    drop(home, "PTCE-001", "suivi.ods", (DATA / "libreoffice_errors.ods").read_bytes())
    (home.inbox / "PTCE-001" / "2024").mkdir()
    drop(home, "PTCE-001", "2024/suivi.xlsx", make_workbook("PTCE-001", 2025, edit=one_error))
    run_ingest(load_settings(home=home.home, settle=0))
    retours = home.inbox / "PTCE-001" / "retours"
    receipts = sorted(p.name for p in retours.glob("*_recu.html"))
    annotated = sorted(p.name for p in retours.glob("*_annote.xlsx"))
    texts = [(retours / r).read_text("utf-8") for r in receipts]
    held = (
        len(set(receipts)) == 3
        and annotated
        and all(r.startswith("20310203-050506_") for r in receipts)
        and sum("suivi.ods" in t for t in texts) == 1
        and all(a.removesuffix("_annote.xlsx") + "_recu.html" in receipts for a in annotated)
    )
    case("écritures", "suivi.xlsx et suivi.ods dans un même passage", held)
    assert held, (receipts, annotated)


@pytest.mark.parametrize("back", [dt.timedelta(0), dt.timedelta(hours=1)])
def test_a_clock_stepped_back_never_overwrites_a_receipt(home, make_workbook, monkeypatch, back):
    retours = home.inbox / "PTCE-001" / "retours"
    monkeypatch.setenv("PTCE_NOW", T0.isoformat())
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", edit=one_error))
    run_ingest(load_settings(home=home.home, settle=0))
    first = {p.name: p.read_bytes() for p in retours.iterdir()}
    monkeypatch.setenv("PTCE_NOW", (T0 - back).isoformat())
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001"))
    run_ingest(load_settings(home=home.home, settle=0))
    now = {p.name: p.read_bytes() for p in retours.iterdir()}
    held = (
        all(now.get(name) == data for name, data in first.items())
        and len([n for n in now if n.endswith("_recu.html")]) == 2
    )
    case("écritures", f"horloge reculée de {back}", held)
    assert held, sorted(now)


def _write(home, name="suivi.xlsx", seq=7, receipt=None):
    home.inbox.mkdir(exist_ok=True)
    paths = feedback_paths(home.pole_inbox("PTCE-001"), name, T0, seq)
    return paths, write_feedback(
        folder_path=home.pole_inbox("PTCE-001"),
        paths=paths,
        annotated=None,
        receipt=receipt or (lambda annotated: f"<p>reçu {annotated}</p>"),
    )


def test_a_name_taken_by_the_pole_is_not_overwritten_the_pair_moves_to_a_suffix(
    home, make_workbook, tmp_path
):
    (home.inbox / "PTCE-001" / "retours").mkdir(parents=True)
    archived = home.home / "suivi.xlsx"
    archived.write_bytes(make_workbook("PTCE-001"))
    paths = feedback_paths(home.pole_inbox("PTCE-001"), "suivi.xlsx", T0, 7)
    paths["receipt"].write_bytes(b"le fichier du pole")
    outside = tmp_path / "ailleurs.xlsx"
    outside.write_bytes(b"hors du home")
    os.symlink(outside, paths["annotated"])
    issue = I.Issue(
        file="suivi.xlsx",
        sheet="Indicateurs",
        cell="D14",
        column=None,
        code="out-of-range",
        severity=I.ERREUR,
        message="trop grand",
        value="9",
    )
    written = write_feedback(
        folder_path=home.pole_inbox("PTCE-001"),
        paths=paths,
        annotated=annotated_workbook(archived.read_bytes(), "xlsx", [issue]),
        receipt=lambda annotated: f"<p>voir {annotated}</p>",
    )
    receipt = written["receipt"]
    held = (
        paths["receipt"].read_bytes() == b"le fichier du pole"
        and outside.read_bytes() == b"hors du home"
        and paths["annotated"].is_symlink()
        and receipt.name == "20310203-050506_7_suivi_2_recu.html"
        and written["annotated"].name == "20310203-050506_7_suivi_2_annote.xlsx"
        and receipt.read_text("utf-8") == f"<p>voir {written['annotated'].name}</p>"
    )
    case("écritures", "nom déjà pris (fichier, lien) dans retours", held)
    assert held, written


def test_the_same_decision_written_again_is_kept_not_duplicated(home):
    _paths, first = _write(home)
    _paths, again = _write(home)
    retours = home.inbox / "PTCE-001" / "retours"
    held = again == first and [p.name for p in retours.iterdir()] == [first["receipt"].name]
    case("écritures", "même décision réécrite (reprise)", held)
    assert held


@pytest.mark.parametrize("how", ["retours-lien", "retours-fichier", "dossier-lien"])
def test_the_writer_refuses_a_folder_that_is_not_a_folder(home, tmp_path, how):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (home.inbox / "PTCE-001" / "retours").mkdir(parents=True)
    _swap(home, how, outside)
    before = files_under(outside)
    with pytest.raises(UnsafePath) as err:
        _write(home)
    held = files_under(outside) == before and "refusé, non suivi" in str(err.value)
    case("écritures", f"{how} à l'écriture", held)
    assert held, str(err.value)


def test_a_retours_link_at_start_loses_nothing_where_it_points(home, make_workbook, tmp_path):
    """The sweep of temporary files does not follow it; discovery moves it aside; the pole's
    feedback goes to a new, real `retours/`."""
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (outside / ".ancien.html.1.tmp").write_bytes(b"a moi")
    (home.inbox / "PTCE-001").mkdir(parents=True)
    os.symlink(outside, home.inbox / "PTCE-001" / "retours")
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001"))
    run_ingest(load_settings(home=home.home, settle=0))
    retours = home.inbox / "PTCE-001" / "retours"
    held = (
        files_under(outside) == [".ancien.html.1.tmp"]
        and not retours.is_symlink()
        and len(list(retours.glob("*_recu.html"))) == 1
    )
    case("écritures", "retours déjà un lien au départ", held)
    assert held, (files_under(outside), files_under(home.inbox))


def test_a_pole_folder_that_is_a_link_at_start_gets_nothing_through_it(home, tmp_path):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    home.inbox.mkdir(exist_ok=True)
    os.symlink(outside, home.inbox / "PTCE-001")
    run_ingest(load_settings(home=home.home, settle=0))
    held = files_under(outside) == []
    case("écritures", "dossier du pôle déjà un lien au départ", held)
    assert held, files_under(outside)
