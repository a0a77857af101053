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
import io
import os
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest
from helpers import tally
from helpers.procs import Procs, env_for, harness_url
from helpers.workbooks import drop, make_home, q

pytestmark = pytest.mark.usefixtures("prefect_harness")

DATA = Path(__file__).parents[1] / "data"
BOUND_MB = 1024  # the README's bound: no process of a run above 1 GB
MAX_ROWS, MAX_COLS = 20_000, 200  # the per-sheet caps (Limits): every hostile sheet is inside


# --- hostile files ---------------------------------------------------------------------------
def ods_repeated_sheets(sheets: int = 3, base: str = "check_refusee.ods") -> bytes:
    """A refused .ods (its validation fails) with `sheets` extra sheets, each one row of
    values repeated to the row cap and one value repeated to the column cap: ~50 KB."""
    cell = (
        f'<table:table-cell office:value-type="float" office:value="7" '
        f'table:number-columns-repeated="{MAX_COLS}"><text:p>7</text:p></table:table-cell>'
    )
    extra = "".join(
        f'<table:table table:name="Annexe{i}"><table:table-row '
        f'table:number-rows-repeated="{MAX_ROWS}">{cell}</table:table-row></table:table>'
        for i in range(sheets)
    ).encode()
    return _rezip(
        (DATA / base).read_bytes(),
        {
            "content.xml": lambda b: b.replace(
                b"</office:spreadsheet>", extra + b"</office:spreadsheet>", 1
            )
        },
    )


def xlsx_shared_part(template: bytes, entries: int = 20, rows: int = 15_000) -> bytes:
    """The template with `entries` extra sheet entries all naming one worksheet part of
    `rows` × 10 values (inside every cap): under a megabyte, parsed once per entry."""
    row = "".join(f'<c r="{c}{{r}}"><v>{n}</v></c>' for n, c in enumerate("ABCDEFGHIJ"))
    body = "".join(f'<row r="{r}">{row.format(r=r)}</row>' for r in range(1, rows + 1))
    part = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()
    rels_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheets = "".join(
        f'<sheet name="Copie{i}" sheetId="{100 + i}" r:id="rIdCopie{i}"/>' for i in range(entries)
    ).encode()
    rels = "".join(
        f'<Relationship Id="rIdCopie{i}" Type="{rels_ns}/worksheet" '
        'Target="worksheets/partagee.xml"/>'
        for i in range(entries)
    ).encode()
    types = (
        b'<Override PartName="/xl/worksheets/partagee.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    )
    return _rezip(
        template,
        {
            "xl/workbook.xml": lambda b: b.replace(b"</sheets>", sheets + b"</sheets>", 1),
            "xl/_rels/workbook.xml.rels": lambda b: b.replace(
                b"</Relationships>", rels + b"</Relationships>", 1
            ),
            "[Content_Types].xml": lambda b: b.replace(b"</Types>", types + b"</Types>", 1),
        },
        {"xl/worksheets/partagee.xml": part},
    )


def _rezip(data: bytes, edits: dict, add: dict | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename in edits:
                blob = edits[info.filename](blob)
                assert blob != src.read(info), info.filename
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            dst.writestr(info.filename, blob, method)
        for name, blob in (add or {}).items():
            dst.writestr(name, blob)
    return out.getvalue()


# --- peak memory of a process tree -----------------------------------------------------------
class Peaks:
    """The high-water mark (VmHWM) of every process of one session, polled from /proc while the
    command runs: the CLI, its forkserver, its readers and its annotating child."""

    def __init__(self, session: int):
        self.session = session
        self.by_pid: dict[int, tuple[str, int]] = {}  # pid → (name, kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.02)

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[3]) != self.session:  # the session id
                    continue
                status = Path(f"/proc/{entry.name}/status").read_text()
            except (OSError, IndexError, ValueError):
                continue
            hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            name = stat.split("(", 1)[1].rsplit(")", 1)[0]
            if hwm:
                pid = int(entry.name)
                kb = max(int(hwm.group(1)), self.by_pid.get(pid, ("", 0))[1])
                self.by_pid[pid] = (name, kb)

    def stop(self) -> int:
        """→ the largest peak, in MB."""
        self._stop.set()
        self._thread.join()
        return max((kb for _n, kb in self.by_pid.values()), default=0) // 1024


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
