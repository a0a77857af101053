"""Bounded cost per file, whatever its shape: tiny workbooks that ask for gigabytes (an .ods
with extra sheets of repeated values inside every per-sheet cap; an .xlsx whose twenty sheet
entries name one worksheet part) go through the real `ptce ingest`, `ptce check --annotate`,
`ptce reprocess` and `ptce rebuild`, in real processes. The pre-flight refuses them (total
cells, shared parts); with the pre-flight bypassed, the annotated copy is still built under
the readers' limits, skipped when it hits them, and the receipt says so. Every time, the other
poles' files are decided in the same run and no process of the run (the CLI, its readers, its
annotating child) goes above the README's bound, measured from /proc."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from helpers import tally
from helpers.costly import Peaks, ods_repeated_sheets, xlsx_shared_part
from helpers.procs import Procs, env_for, harness_url
from helpers.workbooks import drop, make_home, q

pytestmark = pytest.mark.usefixtures("prefect_harness")

BOUND_MB = 1024  # the README's bound: no process of a run above 1 GB


def measured(procs: Procs, what: str, *args: str, env: dict[str, str]):
    """Run `ptce *args` in its own session → (result, peak MB of its largest process)."""
    proc = procs.ptce(*args, env=env)
    peaks = Peaks(proc.pid)  # start_new_session: the session id is the CLI's pid
    result = procs.wait(proc, timeout=600)
    peak = peaks.stop()
    main = peaks.by_pid.get(proc.pid, ("", 0))[1] // 1024
    print(
        f"{what}: {len(peaks.by_pid)} processus, pic {peak} Mo, dont la commande {main} Mo "
        f"(borne {BOUND_MB} Mo)"
    )
    return result, peak


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


@pytest.fixture
def world(tmp_path, make_workbook):
    """A home with two valid files from other poles, beside which the hostile files land."""

    def make(**env):
        home = make_home(tmp_path / "home", **env)
        drop(home, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
        drop(home, "PTCE-003", "bon.xlsx", make_workbook("PTCE-003", 2024, seed=3))
        return home

    return make


def statuses(home) -> dict[str, str]:
    rows = q(home.live_db, "SELECT inbox_folder, original_name, status FROM submissions")
    return {f"{pole}/{name}": status for pole, name, status in rows}


def receipts(home, pole: str) -> list[str]:
    folder = home.pole_inbox(pole) / "retours"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*_recu.html"))]
    return [html.unescape(t).replace("\xa0", " ") for t in texts]


HOSTILE = {
    "ods-feuilles-repetees": ("suivi.ods", lambda template: ods_repeated_sheets()),
    "xlsx-vingt-feuilles-une-partie": ("suivi.xlsx", xlsx_shared_part),
}
REFUSAL = {
    "ods-feuilles-repetees": ("too-large", "cellules en tout"),
    "xlsx-vingt-feuilles-une-partie": ("unsafe-archive", "renvoient au même contenu"),
}


# --- the pre-flight refuses them, cheaply --------------------------------------------------
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_preflight_refuses_total_work_in_ingest_and_check(name, world, template, procs, tmp_path):
    filename, build = HOSTILE[name]
    data = build(template)
    assert len(data) < 1024 * 1024  # a small file …
    home = world()
    drop(home, "PTCE-002", filename, data)
    env = env_for(home, api_url=harness_url())
    result, peak = measured(
        procs, f"ingest {name}", "ingest", "--home", str(home.home), "--settle", "0", env=env
    )
    held = result.code in (0, 1) and peak < BOUND_MB
    decided = statuses(home)
    code, words = REFUSAL[name]
    held &= decided == {
        "PTCE-001/bon.xlsx": "acceptee",
        "PTCE-003/bon.xlsx": "acceptee",
        f"PTCE-002/{filename}": "refusee",
    }
    (receipt,) = receipts(home, "PTCE-002")
    held &= words in receipt and "Le classeur" in receipt
    out = tmp_path / "annote"
    checked, peak_check = measured(
        procs,
        f"check --annotate {name}",
        "check",
        str(_write(tmp_path / filename, data)),
        "--annotate",
        str(out),
        "--home",
        str(home.home),
        "--json",
        env=env,
    )
    held &= checked.code == 1 and code in checked.out and peak_check < BOUND_MB
    tally.case("coût", f"{name} (pré-contrôle)", held)
    assert result.code in (0, 1), result
    assert decided["PTCE-001/bon.xlsx"] == decided["PTCE-003/bon.xlsx"] == "acceptee"
    assert decided[f"PTCE-002/{filename}"] == "refusee"
    assert words in receipt
    assert checked.code == 1 and f'"code": "{code}"' in checked.out, checked
    assert peak < BOUND_MB and peak_check < BOUND_MB


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- with the pre-flight bypassed, the annotated copy's own limits hold ----------------------
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_annotated_copy_is_built_under_limits_everywhere(name, world, template, procs, tmp_path):
    """The second line: the pre-flight lets the file through (no total bound, or no pre-flight
    at all), the readers' limits still stop the parse, and every annotating path — the run,
    `check --annotate`, `reprocess`, `rebuild` — stays under the bound."""
    filename, build = HOSTILE[name]
    data = build(template)
    bypass = {"PTCE_MAX_CELLS": str(10**9)} if name.startswith("ods") else {"PTCE_PREFLIGHT": "0"}
    home = world(**bypass)
    drop(home, "PTCE-002", filename, data)
    hostile = _write(tmp_path / filename, data)
    env = env_for(home, api_url=harness_url(), **bypass)
    peaks = {}
    result, peaks["ingest"] = measured(
        procs,
        f"ingest {name} (sans borne)",
        "ingest",
        "--home",
        str(home.home),
        "--settle",
        "0",
        env=env,
    )
    assert result.code in (0, 1), result
    decided = statuses(home)
    assert decided["PTCE-001/bon.xlsx"] == decided["PTCE-003/bon.xlsx"] == "acceptee"
    status = decided[f"PTCE-002/{filename}"]
    annotated = list((home.pole_inbox("PTCE-002") / "retours").glob("*_annote.xlsx"))
    (receipt,) = receipts(home, "PTCE-002")
    read_refused = "dépasse les limites acceptées" in receipt or "Lecture trop longue" in receipt
    assert status == "refusee"
    if not read_refused:  # read and refused by validation: a copy is due, or the reason why not
        assert annotated or "La copie annotée de votre classeur n'a pas été produite" in receipt
    print(
        f"  reçu : {'lecture refusée' if read_refused else 'copie ' + ('écrite' if annotated else 'non produite')}"
    )
    checked, peaks["check --annotate"] = measured(
        procs,
        f"check --annotate {name} (sans borne)",
        "check",
        str(hostile),
        "--annotate",
        str(tmp_path / "annote"),
        "--home",
        str(home.home),
        env=env,
    )
    assert checked.code in (0, 1), checked
    assert "Traceback" not in checked.err
    ((sid,),) = q(
        home.live_db, "SELECT submission_id FROM submissions WHERE inbox_folder = 'PTCE-002'"
    )
    again, peaks["reprocess"] = measured(
        procs, f"reprocess {name}", "reprocess", str(sid), "--home", str(home.home), env=env
    )
    assert again.code in (0, 1), again
    rebuilt, peaks["rebuild"] = measured(
        procs, f"rebuild {name}", "rebuild", "--home", str(home.home), env=env
    )
    assert rebuilt.code in (0, 1), rebuilt
    after = statuses(home)
    held = (
        all(p < BOUND_MB for p in peaks.values())
        and after["PTCE-001/bon.xlsx"] == after["PTCE-003/bon.xlsx"] == "acceptee"
    )
    tally.case("coût", f"{name} (limites du processus)", held)
    assert after["PTCE-001/bon.xlsx"] == after["PTCE-003/bon.xlsx"] == "acceptee"
    assert all(p < BOUND_MB for p in peaks.values()), peaks
