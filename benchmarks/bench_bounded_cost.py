"""Peak memory of every process of `ptce check --annotate`, per kind of file.

    python benchmarks/bench_bounded_cost.py [--limits default|bypass]

Builds, in a temporary folder: a filled template (legitimate), a legitimate workbook at the
total-cells bound (its « Membres » sheet filled to 19 500 rows × 50 columns: just under the 1 million cells),
and the two hostile shapes of tests/hostile/test_bounded_cost.py (an .ods with three sheets of
repeated values inside every per-sheet cap; an .xlsx whose twenty sheet entries name one
worksheet part). Each runs through `ptce check --annotate` in its own session while every
process of that session is polled in /proc (VmHWM); the largest peak is printed beside the
README's bound (1 GB). `--limits bypass` lifts the pre-flight's total bound (and switches the
pre-flight off for the .xlsx) to show the process limits holding alone. `reprocess` and
`rebuild` on the same files are measured by the test (`pytest -s
tests/hostile/test_bounded_cost.py`).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.costly import Peaks, ods_repeated_sheets, xlsx_shared_part  # noqa: E402
from helpers.workbooks import filled, packaged_ref, workbook  # noqa: E402

BOUND_MB = 1024


def at_the_bound(template: bytes, rows: int = 19_500, cols: int = 50) -> bytes:
    """The template whose « Membres » sheet holds `rows` × `cols` numbers (just under 1 M cells in all)."""
    from ptce_pipeline.content import col_letters

    letters = [col_letters(c) for c in range(1, cols + 1)]
    body = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in letters) + "</row>"
        for r in range(1, rows + 1)
    )
    src = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                head, _, rest = blob.partition(b"<sheetData>")
                _, _, tail = rest.partition(b"</sheetData>")
                blob = head + b"<sheetData>" + body.encode() + b"</sheetData>" + tail
            dst.writestr(info, blob)
    return out.getvalue()


def measure(path: Path, out: Path, env: dict[str, str]) -> tuple[int, int, float, str]:
    cmd = [sys.executable, "-m", "ptce_pipeline.cli.parser", "check", str(path)]
    cmd += ["--annotate", str(out), "--json"]
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    peaks = Peaks(proc.pid)
    stdout, stderr = proc.communicate()
    peak = peaks.stop()
    main = peaks.by_pid.get(proc.pid, ("", 0))[1] // 1024
    codes = sorted({c for c in stdout.decode().split('"code": "')[1:]})
    what = ",".join(sorted({c.split('"')[0] for c in codes})) or "aucune anomalie"
    if "n'a pas été produite" in stderr.decode():
        what += " ; copie annotée non produite"
    elif out.exists():
        what += " ; copie annotée écrite"
    return peak, main, time.perf_counter() - t, what


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limits", choices=("default", "bypass"), default="default")
    args = parser.parse_args()
    ref = packaged_ref()
    template = workbook(ref, filled(ref))
    files = {
        "modèle rempli (.xlsx)": ("a.xlsx", template, {}),
        "près d'un million de cellules (.xlsx)": ("b.xlsx", at_the_bound(template), {}),
        "feuilles répétées (.ods, 49 Ko)": (
            "c.ods",
            ods_repeated_sheets(),
            {"PTCE_MAX_CELLS": str(10**9)},
        ),
        "20 feuilles, une partie (.xlsx)": (
            "d.xlsx",
            xlsx_shared_part(template),
            {"PTCE_PREFLIGHT": "0"},
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for label, (name, data, bypass) in files.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            env = {k: v for k, v in os.environ.items() if not k.startswith("PTCE_")}
            env["PTCE_HOME"] = tmp
            if args.limits == "bypass":
                env.update(bypass)
            peak, main_mb, seconds, what = measure(path, Path(tmp) / f"{name}_annote.xlsx", env)
            print(
                f"{label:34} {len(data) // 1024:6} Ko  pic {peak:5} Mo (commande {main_mb} Mo, "
                f"borne {BOUND_MB})  {seconds:5.1f} s  {what}"
            )


if __name__ == "__main__":
    main()
