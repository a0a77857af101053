"""What a national review decision costs on a large warehouse, against an existing correction
of the same kind (`ptce withdraw`: one journal record, one unit of work, the snapshot
refreshed) measured in the same run, and what the reviewer's reads cost.

    python benchmarks/bench_review.py [--submissions 2000] [--rounds 3] [--batch 50]

Builds a home whose warehouse holds N accepted submissions (`warehouse_10k.build`: through the
ledger from one real workbook), then alternates, each round: sign off one declaration,
sign off `--batch` declarations in one call (several ids per call: one unit of work), send one
back with a comment (its notice written), withdraw one (the baseline). Also times
`review_rows` (the list) and `review_view` (one submission's changes, warnings and history) on
the analysts' snapshot. Prints medians and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from warehouse_10k import build

    from ptce_pipeline.ingestion.corrections import withdraw
    from ptce_pipeline.ingestion.review import decide
    from ptce_pipeline.store.review import review_rows
    from ptce_pipeline.store.review_view import review_view
    from ptce_pipeline.store.snapshot import publish_snapshot
    from ptce_pipeline.store.warehouse import reader

    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ptce-bench-review-"))
    try:
        settings, _cfg, _content, _ref = build(root / "home", args.submissions)
        publish_snapshot(settings, full=True)
        with reader(settings) as con:
            waiting = [r["submission_id"] for r in review_rows(con, state="a_revoir")]
        print(f"{len(waiting)} declarations in force waiting for review", flush=True)
        timings: dict[str, list[float]] = {}

        def timed(name, fn, *a, **kw):
            t0 = time.perf_counter()
            fn(*a, **kw)
            timings.setdefault(name, []).append(time.perf_counter() - t0)

        for _ in range(args.rounds):
            one, back, gone = waiting.pop(), waiting.pop(), waiting.pop()
            batch = [waiting.pop() for _ in range(args.batch)]
            timed("withdraw one (baseline)", withdraw, settings, gone, reason="b", by="b")
            timed("sign off one", decide, settings, [one], "validee", comment=None, by="b")
            timed(
                f"sign off {args.batch} in one call",
                decide,
                settings,
                batch,
                "validee",
                comment=None,
                by="b",
            )
            timed(
                "send one back (with its notice)",
                decide,
                settings,
                [back],
                "a_corriger",
                comment="Vérifiez IND05",
                by="b",
            )
            with reader(settings) as con:
                timed("review list (snapshot)", review_rows, con)
                timed("review view of one (snapshot)", review_view, con, one)
        base = statistics.median(timings["withdraw one (baseline)"])
        for name, values in timings.items():
            med = statistics.median(values)
            print(
                f"{name:<36} {med * 1000:8.0f} ms  ×{med / base:5.2f} of the baseline  "
                f"(runs: {', '.join(f'{v * 1000:.0f}' for v in values)})"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
