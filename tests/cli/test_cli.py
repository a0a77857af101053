"""The command line: French help, exit codes, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ptce_pipeline.cli.parser import main


def run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", *args],
        capture_output=True,
        text=True,
        **kw,
    )


def test_help_is_french_and_lists_every_verb():
    res = run("--help")
    assert res.returncode == 0
    for verb in (
        "init",
        "template",
        "check",
        "ingest",
        "publish",
        "run",
        "demo",
        "serve",
        "status",
        "withdraw",
        "reprocess",
        "campaign",
        "rebuild",
    ):
        assert verb in res.stdout
    assert "affiche cette aide" in res.stdout


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from ptce_pipeline.cli.parser import build_parser; build_parser(); "
        "print(sorted(m for m in ('prefect', 'pandas', 'duckdb', 'pandera', 'great_tables') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["frobnicate"], ["check"], ["withdraw", "12"]])
def test_usage_errors_exit_2_in_french(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert "Erreur" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "absent.xlsx"), "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Fichier introuvable") and "Traceback" not in err


def test_status_without_home_exits_2(tmp_path, capsys):
    assert main(["status", "--home", str(tmp_path / "nulle-part")]) == 2
