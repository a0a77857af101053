"""Reading workbooks: openpyxl (read-only) against python-calamine, and our whole `read_one`.

    python benchmarks/bench_readers.py [--n 60] [--repeat 5] [--profile]

On the same workbooks (N filled templates written by the template writer, plus the
LibreOffice-saved fixtures of tests/data when present), measures the CPU milliseconds per
workbook of:

1. openpyxl `load_workbook(read_only=True, data_only=True)`, every row of the five sheets the
   reader needs (the usual way to read .xlsx in Python);
2. python-calamine, the same five sheets as Python lists (the reader we use);
3. python-calamine behind our pre-flight (zip bounds, DTD refusal, sheet extent…);
4. our whole `read_one` (sniff → pre-flight → calamine → extraction with cell addresses), and
   each of its stages.

CPU time (time.process_time) is reported, the median of `--repeat` passes, so a busy shared
machine disturbs the figures less than wall time would. `--profile` prints the functions that
cost most in `read_one`.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHEETS = ("Identité", "Membres", "Indicateurs", "Critères", "_ptce")


def corpus(n: int) -> list[tuple[str, str, bytes]]:
    """[(label, format, bytes)]: N demo workbooks and the LibreOffice-saved fixtures."""
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.template import build_template, demo, fill_workbook, workbook_bytes

    ref = load_referentiel()
    reg = {p.pole_id: p for p in demo.registry()}
    out = []
    for i in range(n):
        pole = demo.POLES[i % len(demo.POLES)]
        data = demo.pole_data(ref, pole, 2025, random.Random(f"bench-{i}"), {})
        wb = build_template(ref, pole=reg[pole.pole_id], period=2025)
        fill_workbook(wb, ref, copy.deepcopy(data))
        out.append(("modèle rempli", "xlsx", workbook_bytes(wb)))
    for path in sorted(DATA.glob("libreoffice_*")):
        if path.suffix in (".xlsx", ".ods"):
            out.append((f"LibreOffice {path.suffix}", path.suffix[1:], path.read_bytes()))
    return out


def per_workbook_ms(fn, files: list[bytes], repeat: int) -> float:
    fn(files[0])  # warm caches and imports
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        for data in files:
            fn(data)
        runs.append((time.process_time() - start) / len(files) * 1000)
    return statistics.median(runs)


def read_openpyxl(data: bytes) -> int:
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        n = 0
        for name in SHEETS:
            if name in wb.sheetnames:
                ws = wb[name]
                ws.reset_dimensions()
                for row in ws.iter_rows(values_only=True):
                    n += len(row)
        return n
    finally:
        wb.close()


def read_calamine(data: bytes) -> int:
    import python_calamine as pc

    book = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return sum(
            len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in book.sheet_names
            if name in SHEETS
        )
    finally:
        book.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="filled templates to read")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.config import Limits
    from ptce_pipeline.reading.extract import extract
    from ptce_pipeline.reading.preflight import run_preflight
    from ptce_pipeline.reading.sandbox import read_one
    from ptce_pipeline.reading.sniff import sniff
    from ptce_pipeline.reading.workbook import read_raw

    ref = load_referentiel()
    limits = Limits()
    files = corpus(args.n)
    groups: dict[str, list[tuple[str, bytes]]] = {}
    for label, fmt, data in files:
        groups.setdefault(label, []).append((fmt, data))

    def preflight_then_calamine(item):
        fmt, data = item
        run_preflight(data, fmt, limits)
        read_calamine(data)

    raws = {}

    def stage_raw(item):
        raws[id(item)] = read_raw(item[1], limits)[0]

    rows = []
    for label, items in groups.items():
        fmt = items[0][0]
        measures = {
            "openpyxl read_only": per_workbook_ms(
                lambda it: read_openpyxl(it[1]), items, args.repeat
            )
            if fmt != "ods"
            else None,
            "calamine": per_workbook_ms(lambda it: read_calamine(it[1]), items, args.repeat),
            "pré-contrôle + calamine": per_workbook_ms(preflight_then_calamine, items, args.repeat),
            "read_one": per_workbook_ms(
                lambda it: read_one(it[1], ref, limits), items, args.repeat
            ),
            "  sniff": per_workbook_ms(lambda it: sniff(it[1]), items, args.repeat),
            "  pré-contrôle": per_workbook_ms(
                lambda it: run_preflight(it[1], it[0], limits), items, args.repeat
            ),
            "  read_raw (sniff+pré-contrôle+calamine)": per_workbook_ms(
                stage_raw, items, args.repeat
            ),
        }
        for item in items:
            stage_raw(item)
        measures["  extract"] = per_workbook_ms(
            lambda it: extract(raws[id(it)], ref), items, args.repeat
        )
        size = statistics.median(len(d) for _f, d in items) / 1024
        rows.append((f"{label} ({len(items)} × {size:.0f} Ko)", measures))

    names = list(rows[0][1])
    width = max(len(n) for n in names) + 2
    print(
        f"\nms CPU par classeur (médiane de {args.repeat} passes), Python {sys.version.split()[0]}"
    )
    header = "".ljust(width) + "".join(f"{label[:34]:>36}" for label, _ in rows)
    print(header)
    for name in names:
        cells = "".join(
            f"{m[name]:>36.2f}" if m[name] is not None else f"{'—':>36}" for _l, m in rows
        )
        print(name.ljust(width) + cells)
    if args.profile:
        items = groups["modèle rempli"]
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.repeat):
            for _fmt, data in items:
                read_one(data, ref, limits)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
