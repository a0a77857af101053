"""Text from a pole's file reaches the operator neutralised for its medium (issue 15, item 5):
control characters shown visibly on the terminal (no escape sequence, OSC-8 hyperlink, bell,
carriage return or forged summary line), Markdown inert in the Prefect artifact. Real `ptce`
processes, a real Prefect API, files with hostile names and hostile cell values."""

from __future__ import annotations

import json
import re

import pytest
from helpers import tally
from helpers.procs import Procs, env_for, harness_url
from helpers.workbooks import drop, set_indicator

from ptce_pipeline.catalogue import display

pytestmark = pytest.mark.usefixtures("prefect_harness")

# every character a terminal obeys or reorders: C0 (but the line break between lines), DEL,
# C1, bidi embeddings/overrides/isolates and marks, Unicode line separators
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

HOSTILE_NAMES = {
    "ESC (couleurs, effacement d'écran)": "rouge\x1b[31m\x1b[2J.xlsx",
    "OSC-8 (lien hypertexte)": "\x1b]8;;mailto:piege@piege.invalid\x07cliquez\x1b]8;;\x07.xlsx",
    "BEL": "bip\x07\x07.xlsx",
    "CR (ligne réécrite)": "x\rFichiers reçus : 0 (tout va bien).xlsx",
    "saut de ligne (ligne de bilan forgée)": "y\nDécisions : acceptés 999, refusés 0.xlsx",
    "C1 (CSI sur 8 bits)": "c1\x9b2J.xlsx",
    "DEL et tabulation": "del\x7f\tx.xlsx",
    "bidi (U+202E, U+2066)": "facture\u202exslx.exe\u2066.xlsx",
    "Markdown image et lien": "![piège](piege.png) [ici](javascript:alert(1)) www.piege.invalid.xlsx",
    "Markdown code et tableau": "a`b``c|d|*e*_f_<b>#.xlsx",
}
CELL = "![x](https://piege.invalid/i.png) <img src=x> [lien](www.piege.invalid) *gras* `code` | # _x001B_[2J"


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def _bad(ref):
    code = ref.indicators[0].code
    return set_indicator(code, CELL)


def _safe_terminal(text: str) -> bool:
    return not UNSAFE.search(text)


def _inert_markdown(md: str) -> list[str]:
    """What stays active in `md` once code spans are set aside: unescaped link, image or HTML
    syntax, autolinks, raw control characters."""
    plain = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", md)
    found = []
    if UNSAFE.search(md):
        found.append("caractère de contrôle")
    for pattern, what in (
        (r"(?<!\\)!\\?\[", "image"),
        (r"(?<!\\)\]\(", "lien"),
        (r"(?<!\\)<[A-Za-z/!]", "HTML"),
        (r"https?://", "lien automatique"),
        (r"(?<![\\\w])www\.", "lien automatique www"),
        (r"(?<!\\)\*\S", "emphase"),
    ):
        if re.search(pattern, plain):
            found.append(what)
    return found


def test_hostile_names_and_cells_reach_terminal_and_artifact_neutralised(
    home, make_workbook, ref, procs
):
    from prefect.artifacts import Artifact

    from ptce_pipeline.flows.ingest import ARTIFACT_KEY

    bad = make_workbook("PTCE-001", 2024, change=_bad(ref))
    for i, name in enumerate(HOSTILE_NAMES.values()):
        drop(
            home, "PTCE-001", name, make_workbook("PTCE-001", 2024, seed=100 + i, change=_bad(ref))
        )
    drop(home, "", "\x1b]8;;mailto:piege@piege.invalid\x07racine\x1b]8;;\x07.xlsx", bad)
    drop(home, "PTCE-002", "bon.xlsx", make_workbook("PTCE-002", 2024))
    env = env_for(home, api_url=harness_url(), PTCE_SETTLE="0")

    result = procs.run("ingest", "--home", str(home.home), env=env)
    assert result.code == 0 or result.code == 1, result
    shown = result.out + result.err
    lines = result.out.splitlines()
    # one summary line of each kind: a name cannot forge or overwrite one
    assert sum(line.startswith("Fichiers reçus : ") for line in lines) == 1, result.out
    assert sum(line.startswith("Décisions : ") for line in lines) == 1, result.out
    refused = [line for line in lines if line.startswith("  Refusé : PTCE-001/")]
    terminal_held = _safe_terminal(shown) and len(refused) == len(HOSTILE_NAMES)
    for what, name in HOSTILE_NAMES.items():
        held = _safe_terminal(shown) and any(display.terminal(name) in line for line in refused)
        tally.case("affichage", f"ptce ingest, nom : {what}", held)
    assert _safe_terminal(shown), [line for line in shown.splitlines() if UNSAFE.search(line)]
    assert terminal_held, result.out
    assert "␛]8;;mailto:piege@piege.invalid␇cliquez␛]8;;␇.xlsx" in result.out  # seen, not obeyed

    md = Artifact.get(ARTIFACT_KEY).data
    active = _inert_markdown(md)
    tally.case("affichage", "artefact Markdown : noms et valeurs de cellules", not active)
    assert active == [], md
    assert display.code(HOSTILE_NAMES["Markdown image et lien"], table=True) in md

    # `--json` stays JSON carrying the exact names, with nothing a terminal would obey
    result = procs.run("status", "--home", str(home.home), env=env)
    tally.case("affichage", "ptce status", _safe_terminal(result.out + result.err))
    assert _safe_terminal(result.out + result.err), result
    result = procs.run("status", "--home", str(home.home), "--json", env=env)
    assert result.code == 0 and _safe_terminal(result.out), result
    json.loads(result.out)


def test_check_shows_hostile_names_and_cells_visibly(tmp_path, make_workbook, ref, procs, home):
    paths = []
    for i, name in enumerate(HOSTILE_NAMES.values()):
        path = tmp_path / name
        path.write_bytes(make_workbook("PTCE-001", 2024, seed=100 + i, change=_bad(ref)))
        paths.append(str(path))
    env = env_for(home, api_url=None)
    result = procs.run("check", *paths, env=env)
    assert result.code == 1, result
    held = _safe_terminal(result.out + result.err)
    held = held and sum(line.startswith("Bilan sur ") for line in result.out.splitlines()) == 1
    tally.case("affichage", "ptce check : noms et valeurs", held)
    assert held, result.out
    result = procs.run("check", "--json", *paths, env=env)
    data = json.loads(result.out)
    ok = _safe_terminal(result.out) and sorted(d["file"] for d in data) == sorted(paths)
    tally.case("affichage", "ptce check --json : JSON exact et inoffensif", ok)
    assert ok, result.out
