"""Validation cost on the ingestion hot path: `validate_batch` on N workbooks' contents.

    python benchmarks/bench_validation.py --n 1000

The contents are read once (real template, the demo's 18 poles × 2 periods, with the demo's
mistakes: about one workbook in ten has errors or warnings) and copied up to N, so only the
validation is timed: the one pandera validation per frame, the failure mapping and the
business rules, with a registry, the inbox folders and a previous-period lookup, as in a run.
Prints the cold time (first call: pandera import and schema generation included) and the
best of three warm runs, in ms per workbook, and with --profile the top functions.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def contents(n: int):
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.config import Limits
    from ptce_pipeline.reading.sandbox import read_one
    from ptce_pipeline.template import demo
    from ptce_pipeline.validation import Item

    ref = load_referentiel()
    read = []
    for pole_id, _name, data in demo.workbooks(ref, seed=1):
        read.append(Item(read_one(data, ref, Limits()).content, pole_id))
    return ref, [copy.deepcopy(read[i % len(read)]) for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    from ptce_pipeline.catalogue.registry import Registry
    from ptce_pipeline.template import demo
    from ptce_pipeline.validation import Context, status_of, validate_batch

    ref, items = contents(args.n)
    registry = Registry({p.pole_id: p for p in demo.registry()}, "bench")
    previous = {
        (it.content.identity["pole_id"].value, 2024): {
            code: (cell.value or 0) / 2 for code, cell in it.content.indicators.items()
        }
        for it in items
    }

    def lookup(pole: str, period: int):
        values = previous.get((pole, period - 1))
        return (period - 1, values) if values else None

    ctx = Context(ref=ref, registry=registry, today=dt.date(2026, 6, 1), previous=lookup)
    t = time.perf_counter()
    result = validate_batch(items, ctx)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        result = validate_batch(items, ctx)
        warm.append(time.perf_counter() - t)
    statuses: dict[str, int] = {}
    for issues in result:
        statuses[status_of(issues)] = statuses.get(status_of(issues), 0) + 1
    n = len(items)
    best = min(warm)
    print(f"workbooks: {n}  statuses: {statuses}  issues: {sum(map(len, result))}")
    print(
        f"cold (import + schemas + validation): {cold:.2f} s  ({cold * 1000 / n:.2f} ms/workbook)"
    )
    print(f"warm, best of 3: {best:.3f} s  ({best * 1000 / n:.3f} ms/workbook)")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        validate_batch(items, ctx)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
