"""How much Prefect costs on an ingestion: N workbooks (one per fictitious pole, written by the
real template writer), ingested three ways on identical homes:

1. the library alone (`ingest.run_ingest`, no Prefect),
2. the `ingest-inbox` flow in-process against an already running Prefect server
   (orchestration cost of the batched tasks only),
3. `ptce ingest` end to end in a subprocess (interpreter, imports, our temporary Prefect
   server, the flow, shutdown).

    python benchmarks/bench_prefect.py --files 200

Speed lives here, not in the tests. Figures on a shared 2-core machine are orders of
magnitude: run it a few times.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build_homes(root: Path, n: int, copies: int) -> list[Path]:
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.catalogue.registry import Pole, write_registry
    from ptce_pipeline.config import load_settings
    from ptce_pipeline.template import build_template, demo, fill_workbook, workbook_bytes

    ref = load_referentiel()
    poles = []
    for i in range(n):
        base = demo.POLES[i % len(demo.POLES)]
        poles.append(dataclasses.replace(base, pole_id=f"PTCE-{100 + i:03d}", nom=f"Pôle {i}"))
    registry = [Pole(p.pole_id, p.nom, p.departement, 2014, None) for p in poles]
    first = root / "home-0"
    first.mkdir(parents=True)
    write_registry(first / "poles.csv", registry)
    (first / "campagnes.csv").write_text("periode,date_limite\n2024,2099-03-31\n", "utf-8")
    settings = load_settings({}, home=first)
    reg = {p.pole_id: p for p in registry}
    for pole in poles:
        data = demo.pole_data(ref, pole, 2024, random.Random(pole.pole_id), {})
        wb = build_template(ref, pole=reg[pole.pole_id], period=2024)
        fill_workbook(wb, ref, data)
        folder = settings.pole_inbox(pole.pole_id)
        folder.mkdir(parents=True)
        (folder / f"suivi_{pole.pole_id}_2024.xlsx").write_bytes(workbook_bytes(wb))
    homes = [first]
    for k in range(1, copies):
        homes.append(root / f"home-{k}")
        shutil.copytree(first, homes[-1])
    return homes


def env(home: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PTCE_"))}
    return {
        **keep,
        "PTCE_SETTLE": "0",
        "PTCE_PREFECT_HOME": str(home / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ptce-bench-"))
    try:
        t = time.perf_counter()
        homes = build_homes(root, args.files, 3)
        print(f"{args.files} classeurs écrits en {time.perf_counter() - t:.1f} s ({root})")

        from ptce_pipeline.config import load_settings
        from ptce_pipeline.ingestion.run import run_ingest

        os.environ["PTCE_SETTLE"] = "0"
        settings = load_settings(home=homes[0])
        t = time.perf_counter()
        report = run_ingest(settings)
        plain = time.perf_counter() - t
        assert report.new == args.files, report.new
        steps = ", ".join(f"{k} {v:.2f}" for k, v in report.durations.items())
        print(f"1. sans Prefect (run_ingest)            : {plain:6.2f} s  [{steps}]")

        from ptce_pipeline.orchestration.prefect_env import prefect_api

        settings = load_settings(home=homes[1])
        empty = root / "vide"
        shutil.copytree(homes[1], empty, ignore=shutil.ignore_patterns("inbox"))
        with prefect_api(settings):
            from ptce_pipeline.flows.ingest import ingest_inbox

            ingest_inbox(home=str(empty), settle=0)  # warm-up: Prefect's client and engine
            t = time.perf_counter()
            state = ingest_inbox(home=str(homes[1]), settle=0, return_state=True)
            flow = time.perf_counter() - t
        assert state.is_completed() and state.result()["new"] == args.files
        steps = ", ".join(f"{k} {v:.2f}" for k, v in state.result()["durations"].items())
        print(f"2. flux ingest-inbox, serveur déjà prêt  : {flow:6.2f} s  [{steps}]")

        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "ptce_pipeline.cli.parser", "ingest", "--home", str(homes[2])],
            env=env(homes[2]),
            capture_output=True,
            text=True,
            check=False,
        )
        cli = time.perf_counter() - t
        assert done.returncode == 0, done.stderr
        print(f"3. ptce ingest de bout en bout           : {cli:6.2f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
