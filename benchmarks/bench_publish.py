"""Publication time of one national-scale period (both releases and the poles' fiches).

    python benchmarks/bench_publish.py [--poles 200] [--rounds 3] [--audit]

Builds a period of N poles through the real ledger (tests/helpers/periods.py: one pole alone in
its region), then times `publish(settings, [period])` several times and prints the median and
the time of each step. With `--audit`, runs the test suite's linear-program auditor on the
release it finds (`publications/public/<period>/`, or `publications/<period>/` of an older
layout), against the unmasked cells, and prints how many masked cells it pins within ±10 %.
To compare with another commit, put its package first on PYTHONPATH (e.g. a `git archive`
of main): the period is built with that commit's code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

PERIOD = 2025
NOW = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)


def audit(settings, release: Path) -> list[str]:
    from helpers import auditor

    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.publication import data as D
    from ptce_pipeline.publication import opendata
    from ptce_pipeline.publication.audience import public_tables
    from ptce_pipeline.publication.site import build_tables
    from ptce_pipeline.store.warehouse import connect

    ref = load_referentiel(settings.referentiel_path)
    con = connect(settings.snapshot_db, read_only=True)
    try:
        data = D.load_period(con, ref, PERIOD, NOW)
    finally:
        con.close()
    tables, _, _ = build_tables(ref, data)
    truth_dir = Path(tempfile.mkdtemp(prefix="verite-"))
    opendata.write_data_files(truth_dir, public_tables(ref, data, tables, secret=False))
    model = auditor.build(release)
    return auditor.exposed(model, auditor.truth_of(truth_dir, model))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--audit", action="store_true")
    parser.add_argument("--audit-home", type=Path, help="only audit this home's release")
    args = parser.parse_args()
    if args.audit_home:
        from ptce_pipeline.config import load_settings

        settings = load_settings({}, home=args.audit_home)
        _report_audit(settings)
        return
    from helpers.periods import national_period

    import ptce_pipeline
    from ptce_pipeline.publication import publish

    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-publish-"))
    settings = national_period(root / "home", n=args.poles, period=PERIOD)
    times, steps = [], {}
    for _ in range(args.rounds):
        t = time.perf_counter()
        result = publish(settings, [PERIOD], now=NOW)
        times.append(time.perf_counter() - t)
        for k, v in result.durations.items():
            steps.setdefault(k, []).append(v)
    print(f"package: {Path(ptce_pipeline.__file__).parent}")
    print(f"publication of {args.poles} poles: median {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{x:.2f}' for x in times)})")  # fmt: skip
    for k, v in steps.items():
        print(f"  {k}: {statistics.median(v):.2f} s")
    print(f"home: {settings.home}")
    if args.audit:
        _report_audit(settings)


def _report_audit(settings) -> None:
    pubs = settings.publications_dir
    release = pubs / "public" / str(PERIOD)
    if not release.exists():
        release = pubs / str(PERIOD)
    exposed = audit(settings, release)
    print(f"auditor on {release}: {len(exposed)} masked cells pinned within ±10 %")
    for line in exposed[:10]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
