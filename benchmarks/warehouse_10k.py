"""Per-run overhead of the warehouse at 10 000 submissions.

    python benchmarks/warehouse_10k.py [--submissions 10000] [--dir DIR]

Builds a home whose warehouse holds N submissions (generated through the ledger from one real
workbook, so every table has realistic rows), then times what a run with little new pays:
opening a Generation (copy + migrate), loading the Ledger, deciding and flushing 10 new
deliveries, committing the generation, and publishing the analysts' snapshot + Parquet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def build(root: Path, n: int):
    from helpers.workbooks import filled, make_home, workbook

    from ptce_pipeline.catalogue.context import load_config
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.reading.sandbox import read_one
    from ptce_pipeline.store.mirror import Mirror
    from ptce_pipeline.store.records import Result
    from ptce_pipeline.store.warehouse import Generation, load_reference

    ref = load_referentiel()
    from ptce_pipeline.catalogue.registry import Pole

    poles = [Pole(f"PTCE-{k:03d}", f"Pôle {k}", "69", 2000, None) for k in range(1, 501)]
    settings = make_home(root, poles=poles)
    cfg = load_config(settings)
    content = read_one(workbook(ref, filled(ref, "PTCE-001", 2024)), ref, settings.limits).content
    gen = Generation(settings)
    con = gen.open()
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    load_reference(con, cfg.ref, cfg.registry, cfg.campaigns, at)
    mirror = Mirror(con, cfg.personal_fields)
    ledger = mirror.ledger
    rng = random.Random(1)
    t = time.perf_counter()
    for i in range(n):
        pole = poles[i % len(poles)].pole_id
        period = 2000 + (i // len(poles)) % 25
        content.identity["periode"].value = period
        sha = hashlib.sha256(f"{i}".encode()).hexdigest()
        seq = i + 1
        ledger.delivery(
            {
                "seq": seq,
                "at": at.isoformat(),
                "folder": pole,
                "name": f"suivi-{i}.xlsx",
                "size": 30000,
                "sha256": sha,
                "archived_path": f"warehouse/archive/{sha}.xlsx",
            },
            registered=True,
        )
        ledger.decide(
            seq,
            registered=True,
            result=Result(issues=[], content=content, file_format="xlsx"),
            versions=cfg.versions,
            at=at,
            late_fn=lambda p, r: rng.random() < 0.1,
            feedback_paths={"receipt": f"inbox/{pole}/retours/{i}_recu.html"},
        )
        if ledger.buffered_rows() > 200_000:
            mirror.flush()
    ledger.last_seq = n
    mirror.flush()
    gen.commit()
    print(f"built {n} submissions in {time.perf_counter() - t:.1f} s", flush=True)
    return settings, cfg, content, ref


def measure(settings, cfg, content, n: int, rounds: int) -> dict[str, list[float]]:
    from ptce_pipeline.store.mirror import Mirror
    from ptce_pipeline.store.records import Result
    from ptce_pipeline.store.snapshot import publish_snapshot
    from ptce_pipeline.store.warehouse import Generation, check_openable

    timings: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    publish_snapshot(settings, full=True)
    print(f"first snapshot (full copy + every period's Parquet): {time.perf_counter() - t0:.2f} s")

    def tick(name, t0):
        timings.setdefault(name, []).append(time.perf_counter() - t0)

    seq = n + 1000
    for r in range(rounds):
        t0 = time.perf_counter()
        check_openable(settings)
        tick("start-up check of the live file", t0)
        t0 = time.perf_counter()
        gen = Generation(settings)
        con = gen.open()
        tick("open generation (copy + migrate)", t0)
        t0 = time.perf_counter()
        mirror = Mirror(con, cfg.personal_fields)
        ledger = mirror.ledger
        tick("load ledger", t0)
        t0 = time.perf_counter()
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for k in range(10):
            seq += 1
            sha = hashlib.sha256(f"new-{r}-{k}".encode()).hexdigest()
            pole = f"PTCE-{k + 1:03d}"
            ledger.delivery(
                {
                    "seq": seq,
                    "at": at.isoformat(),
                    "folder": pole,
                    "name": "nouveau.xlsx",
                    "size": 30000,
                    "sha256": sha,
                    "archived_path": f"warehouse/archive/{sha}.xlsx",
                },
                registered=True,
            )
            ledger.decide(
                seq,
                registered=True,
                result=Result(issues=[], content=content, file_format="xlsx"),
                versions=cfg.versions,
                at=at,
                late_fn=lambda p, r: False,
                feedback_paths={},
            )
        ledger.last_seq = seq
        mirror.flush()
        tick("decide + flush 10 decisions", t0)
        t0 = time.perf_counter()
        gen.commit()
        tick("commit generation (checkpoint, fsync, rename)", t0)
        t0 = time.perf_counter()
        publish_snapshot(settings)
        tick("publish snapshot + parquet", t0)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="ptce-bench-"))
    home = root / "home"
    shutil.rmtree(home, ignore_errors=True)
    settings, cfg, content, _ref = build(home, args.submissions)
    import duckdb

    con = duckdb.connect(str(settings.live_db), read_only=True)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (
            "submissions",
            "indicator_values",
            "members",
            "identity_values",
            "criteria_answers",
        )
    }
    con.close()
    size = settings.live_db.stat().st_size / 1e6
    print(f"rows: {counts}; live file {size:.0f} MB")
    timings = measure(settings, cfg, content, args.submissions, args.rounds)
    total = 0.0
    for name, values in timings.items():
        med = statistics.median(values)
        total += med
        print(
            f"{name:<48} {med * 1000:8.0f} ms  (runs: {', '.join(f'{v * 1000:.0f}' for v in values)})"
        )
    print(f"{'total per run':<48} {total * 1000:8.0f} ms")
    from ptce_pipeline.store.snapshot import publish_snapshot

    t0 = time.perf_counter()
    publish_snapshot(settings, full=True)
    print(f"full snapshot refresh, for comparison: {time.perf_counter() - t0:.2f} s")
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
