"""`ptce check FILE... [--json] [--annotate OUT] [--pole ID]`, run in-process through the real
command line: verdicts, JSON shape, annotated copies, the folder rule, exit codes, and the
promise that nothing is loaded and the live warehouse is never read."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from helpers.workbooks import drop, make_home

from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.cli.parser import main
from ptce_pipeline.ingestion.run import run_ingest

KEYS = ["sheet", "cell", "column", "code", "severity", "message", "value"]


def bad(data):
    data.indicators["IND02"] = 140  # out-of-range: erreur


def warned(data):
    data.criteria["CI3"] = ("Oui", "")  # justification-missing: avertissement


@pytest.fixture
def files(tmp_path, make_workbook) -> dict[str, Path]:
    folder = tmp_path / "fichiers"
    folder.mkdir()
    out = {}
    for name, data in {
        "bon.xlsx": make_workbook(),
        "avertissement.xlsx": make_workbook(change=warned),
        "mauvais.xlsx": make_workbook(change=bad),
        "rapport.pdf": b"%PDF-1.7\n",
    }.items():
        out[name] = folder / name
        out[name].write_bytes(data)
    return out


def check(capsys, *args) -> tuple[int, str, str]:
    code = main(["check", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_json(capsys, *args) -> tuple[int, list]:
    code, out, _err = check(capsys, *args, "--json")
    return code, json.loads(out)


def test_acceptable_files_exit_0(capsys, files, home):
    code, out, _ = check(
        capsys, files["bon.xlsx"], files["avertissement.xlsx"], "--home", home.home
    )
    assert code == 0
    assert f"{files['bon.xlsx']} — acceptable (0 erreur(s), 0 avertissement(s))" in out
    assert "acceptable avec avertissements (0 erreur(s), 1 avertissement(s))" in out
    assert "Bilan sur 2 fichier(s) : acceptables 1 ; acceptables avec avertissements 1" in out


def test_one_refused_file_exits_1_and_the_table_is_french(capsys, files, home):
    code, out, _ = check(capsys, files["bon.xlsx"], files["mauvais.xlsx"], "--home", home.home)
    assert code == 1
    assert "serait refusé (1 erreur(s), 0 avertissement(s))" in out
    header = next(line for line in out.splitlines() if "Feuille" in line)
    assert header.split() == ["Feuille", "Cellule", "Gravité", "Code", "Message"]
    row = next(line for line in out.splitlines() if "out-of-range" in line)
    assert row.split()[:4] == ["Indicateurs", "F8", "erreur", "out-of-range"]
    assert "hors des bornes acceptées (de 0 à 100)" in " ".join(out.split())
    assert "seraient refusés 1." in out


def test_an_unreadable_file_is_refused(capsys, files, home):
    code, result = check_json(capsys, files["rapport.pdf"], "--home", home.home)
    assert code == 1
    assert result[0]["status"] == "refusee"
    assert [(i["sheet"], i["cell"], i["code"]) for i in result[0]["issues"]] == [
        (None, None, "not-a-workbook")
    ]


def test_json_shape_and_statuses(capsys, files, home):
    code, result = check_json(capsys, *files.values(), "--home", home.home)
    assert code == 1
    assert [r["file"] for r in result] == [str(p) for p in files.values()]
    assert [r["status"] for r in result] == [
        "acceptee",
        "acceptee_avec_avertissements",
        "refusee",
        "refusee",
    ]
    assert all(list(r) == ["file", "status", "issues"] for r in result)
    (issue,) = result[2]["issues"]
    assert list(issue) == KEYS
    assert issue | {"message": None} == {
        "sheet": "Indicateurs",
        "cell": "F8",
        "column": "Valeur",
        "code": "out-of-range",
        "severity": "erreur",
        "message": None,
        "value": "140",
    }
    assert issue["message"].startswith("« IND02 Part des membres implantés sur le territoire »")


def test_annotate_one_file_writes_that_file(capsys, files, home, tmp_path):
    target = tmp_path / "sortie" / "corrige-moi.xlsx"
    code, result = check_json(
        capsys, files["mauvais.xlsx"], "--annotate", target, "--home", home.home
    )
    assert code == 1 and result[0]["annotated"] == str(target)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames[0] == L.SHEET_ANOMALIES
    assert wb["Indicateurs"]["F8"].comment is not None


def test_annotate_several_files_writes_a_folder(capsys, files, home, tmp_path, make_workbook):
    other = tmp_path / "autre"
    other.mkdir()
    same_name = other / "mauvais.xlsx"
    same_name.write_bytes(make_workbook(change=bad))
    out = tmp_path / "annotes"
    code, result = check_json(
        capsys, *files.values(), same_name, "--annotate", out, "--home", home.home
    )
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "avertissement_annote.xlsx",
        "mauvais_2_annote.xlsx",
        "mauvais_annote.xlsx",
    ]  # nothing to annotate in a clean file; an unreadable one cannot be opened
    assert [r["annotated"] for r in result] == [
        None,
        str(out / "avertissement_annote.xlsx"),
        str(out / "mauvais_annote.xlsx"),
        None,
        str(out / "mauvais_2_annote.xlsx"),
    ]


def test_annotate_several_files_into_a_file_cannot_run(capsys, files, home, tmp_path):
    existing = tmp_path / "deja.xlsx"
    existing.write_bytes(b"x")
    code, _out, err = check(
        capsys,
        files["bon.xlsx"],
        files["mauvais.xlsx"],
        "--annotate",
        existing,
        "--home",
        home.home,
    )
    assert code == 2 and err.startswith("Erreur : --annotate")


def test_pole_applies_the_folder_rule(capsys, files, home):
    code, result = check_json(capsys, files["bon.xlsx"], "--pole", "PTCE-002", "--home", home.home)
    assert code == 1
    assert [(i["sheet"], i["cell"], i["code"]) for i in result[0]["issues"]] == [
        ("Identité", "C5", "pole-folder-mismatch")
    ]
    code, result = check_json(capsys, files["bon.xlsx"], "--pole", "PTCE-001", "--home", home.home)
    assert code == 0 and result[0]["issues"] == []


@pytest.mark.parametrize("pole", ["PTCE-1", "PTCE-777"])
def test_a_bad_or_unregistered_pole_cannot_run(capsys, files, home, pole):
    code, _out, err = check(capsys, files["bon.xlsx"], "--pole", pole, "--home", home.home)
    assert code == 2 and err.startswith(f"Erreur : --pole {pole}")


def test_without_a_home_registry_rules_are_skipped_and_said(capsys, tmp_path, make_workbook):
    path = tmp_path / "inconnu.xlsx"
    path.write_bytes(make_workbook(change=lambda d: d.identity.update(pole_id="PTCE-777")))
    empty = tmp_path / "vide"
    empty.mkdir()
    code, _out, err = check(capsys, path, "--home", empty)
    assert code == 0
    assert "Note : Pas d'installation" in err and "ne sont pas contrôlées" in err
    home = make_home(tmp_path / "installation")
    code, result = check_json(capsys, path, "--home", home.home)
    assert code == 1
    assert [i["code"] for i in result[0]["issues"]] == ["pole-not-registered"]


def test_a_home_that_does_not_exist_cannot_run(capsys, files, tmp_path):
    code, _out, err = check(capsys, files["bon.xlsx"], "--home", tmp_path / "nulle-part")
    assert code == 2 and "n'existe pas" in err


def test_check_loads_nothing(capsys, files, home):
    before = sorted(p.relative_to(home.home) for p in home.home.rglob("*"))
    code, _out, _err = check(capsys, *files.values(), "--home", home.home)
    assert code == 1
    assert sorted(p.relative_to(home.home) for p in home.home.rglob("*")) == before


def test_previous_period_comes_from_the_snapshot_never_the_live_warehouse(
    capsys, home, make_workbook, tmp_path
):
    drop(home, "PTCE-001", "suivi-2024.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    assert home.snapshot_db.is_file()
    # the live warehouse becomes unreadable: check must not need it
    home.live_db.write_bytes(b"not a database")
    previous = None

    def tenfold(data):
        nonlocal previous
        previous = data.indicators["IND05"]
        data.indicators["IND05"] = previous * 30

    path = tmp_path / "suivi-2025.xlsx"
    path.write_bytes(make_workbook("PTCE-001", 2025, change=tenfold))
    code, result = check_json(capsys, path, "--home", home.home)
    assert code == 0  # a warning only
    assert [(i["sheet"], i["cell"], i["code"], i["severity"]) for i in result[0]["issues"]] == [
        ("Indicateurs", "F12", "large-change", "avertissement")
    ]
    assert "en 2024" in result[0]["issues"][0]["message"]


def test_an_ods_file_gets_an_annotated_xlsx_rebuilt_from_its_values(capsys, home, tmp_path):
    """tests/data/check_refusee.ods was saved by LibreOffice (tests/data/make_check_ods.py)."""
    source = Path(__file__).parents[1] / "data" / "check_refusee.ods"
    target = tmp_path / "annote.xlsx"
    code, result = check_json(capsys, source, "--annotate", target, "--home", home.home)
    assert code == 1
    assert [(i["sheet"], i["cell"], i["code"]) for i in result[0]["issues"]] == [
        (None, None, "old-template-version"),  # saved from template version 1
        ("Indicateurs", "F8", "out-of-range"),
    ]
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames[0] == L.SHEET_ANOMALIES
    assert wb["Indicateurs"]["F8"].value == 140
    assert wb["Indicateurs"]["F8"].fill.fgColor.rgb.endswith("FFC7CE")
    link = wb[L.SHEET_ANOMALIES]["D6"].hyperlink  # D5: the version warning, no cell
    assert link.location == "'Indicateurs'!F8"
    # the rebuilt copy, dropped again, reads like the original
    code, again = check_json(capsys, target, "--home", home.home)
    assert again[0]["issues"] == result[0]["issues"]
