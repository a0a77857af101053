"""Benchmark the whole pipeline at national scale against a naive pandas loop and the read floor.

    python benchmarks/bench_ingest.py --n 1000

Builds N filled workbooks from the real template (cached under benchmarks/.cache; variants are
made by patching one generated workbook), then measures on the same files, in the same run:

1. pipeline: `ptce ingest` end to end through the real Prefect flow (discovery, reading,
   validation, load, feedback, archive, snapshot), with and without Prefect's start-up;
2. naive baseline: per file `pandas.read_excel(sheet_name=None)` (openpyxl), pandera on each
   sheet, one DuckDB insert per file;
3. read floor: every cell of every file with python-calamine, in one process;
4. incremental: the same inbox again with nothing new — answered without Prefect (fast
   path), and through the flow as before (PTCE_FAST_NOOP=0: the baseline); then 10 new
   files on top of N; then one new file, `ptce ingest --settle 0` from drop to receipt,
   with Prefect's temporary server and with a running `ptce serve` (its server reused);
5. peak memory of the ingestion (PSS summed over the process tree, and the largest process's
   peak RSS), publication time, `ptce --help` start-up.

Prints one table and writes it as JSON (benchmarks/results/) so commits can be compared.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
PERIOD = 2025
PLACEHOLDER = "PTCE-999999"
NAME_PLACEHOLDER = "Pole benchmark 999999"
EXTRA = 12  # workbooks beyond N: 10 new on top of N, then one alone without and with serve


def pole_id(i: int) -> str:
    return f"PTCE-{i:06d}"


# --------------------------------------------------------------------------------------------
# corpus
def base_workbook() -> tuple[bytes, dict[str, str]]:
    """One valid filled workbook with placeholder identity, and the cells of a few indicators."""
    import random

    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.catalogue.registry import Pole
    from ptce_pipeline.config import Limits
    from ptce_pipeline.reading.sandbox import read_one
    from ptce_pipeline.template import build_template, demo, fill_workbook, workbook_bytes

    ref = load_referentiel()
    dp = demo.POLES[0]
    data = demo.pole_data(ref, dp, PERIOD, random.Random("bench"), {})
    data.identity["pole_id"] = PLACEHOLDER
    data.identity["nom"] = NAME_PLACEHOLDER
    wb = build_template(
        ref, pole=Pole(PLACEHOLDER, NAME_PLACEHOLDER, dp.departement, 2012, None), period=PERIOD
    )
    fill_workbook(wb, ref, data)
    raw = workbook_bytes(wb)
    content = read_one(raw, ref, Limits()).content
    cells = {code: content.indicators[code].cell for code in ("IND05", "IND17", "IND21")}
    return raw, cells


def variant(base: bytes, cells: dict[str, str], i: int) -> bytes:
    """Patch the base workbook: pole id and name, and a few indicator values."""
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    dst = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
    pid = pole_id(i).encode()
    name = f"Pole benchmark {i:06d}".encode()
    for info in src.infolist():
        data = src.read(info.filename)
        if info.filename in (
            "xl/sharedStrings.xml",
            "docProps/custom.xml",
        ) or info.filename.startswith("xl/worksheets/"):
            data = data.replace(PLACEHOLDER.encode(), pid).replace(NAME_PLACEHOLDER.encode(), name)
        if (
            info.filename == "xl/worksheets/sheet4.xml"
            or b'r="' + cells["IND05"].encode() + b'"' in data
        ):
            for k, (code, ref) in enumerate(cells.items()):
                value = str(
                    100 + (i * (37 + k * 11)) % 9000 * (1000 if code != "IND05" else 1)
                ).encode()
                data = re.sub(
                    rb'(<c r="' + ref.encode() + rb'"[^>]*><v>)[^<]*(</v>)',
                    rb"\g<1>" + value + rb"\g<2>",
                    data,
                )
        zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        zi.compress_type = zipfile.ZIP_DEFLATED
        dst.writestr(zi, data)
    dst.close()
    return out.getvalue()


def corpus(n: int) -> Path:
    from ptce_pipeline.catalogue.referentiel import load_referentiel

    key = hashlib.sha256(
        load_referentiel().sha256.encode()
        + b"".join(
            p.read_bytes() for p in sorted((ROOT / "ptce_pipeline" / "template").glob("*.py"))
        )
    ).hexdigest()[:10]
    folder = CACHE / f"corpus-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    have = {p.name for p in folder.glob("*.xlsx")}
    need = [i for i in range(1, n + EXTRA + 1) if f"{pole_id(i)}.xlsx" not in have]
    if need:
        base, cells = base_workbook()
        t = time.perf_counter()
        for i in need:
            (folder / f"{pole_id(i)}.xlsx").write_bytes(variant(base, cells, i))
        print(
            f"corpus: {len(need)} workbooks written in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
    return folder


def make_home(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["pole_id,nom,departement,premiere_periode,derniere_periode"]
    lines += [f"{pole_id(i)},Pole benchmark {i:06d},26,2012," for i in range(1, n + EXTRA + 1)]
    (root / "poles.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "campagnes.csv").write_text(
        f"periode,date_limite\n{PERIOD},2099-12-31\n", encoding="utf-8"
    )
    return root


def drop(corpus_dir: Path, home: Path, ids) -> None:
    for i in ids:
        folder = home / "inbox" / pole_id(i)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus_dir / f"{pole_id(i)}.xlsx", folder / "suivi.xlsx")


# --------------------------------------------------------------------------------------------
# measuring a process tree
class TreeSampler(threading.Thread):
    """Samples PSS summed over a process and its descendants, and each one's RSS."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = False
        self.max_pss = 0
        self.max_rss = 0

    def _children(self) -> list[int]:
        pids, todo = [self.pid], [self.pid]
        while todo:
            p = todo.pop()
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{task}/children") as fh:
                        kids = [int(x) for x in fh.read().split()]
                    pids += kids
                    todo += kids
            except OSError:
                pass
        return pids

    def run(self) -> None:
        while not self.stop:
            total = 0
            for p in self._children():
                try:
                    with open(f"/proc/{p}/smaps_rollup") as fh:
                        text = fh.read()
                    pss = int(re.search(r"^Pss:\s+(\d+)", text, re.M).group(1))
                    rss = int(re.search(r"^Rss:\s+(\d+)", text, re.M).group(1))
                except (OSError, AttributeError):
                    continue
                total += pss
                self.max_rss = max(self.max_rss, rss)
            self.max_pss = max(self.max_pss, total)
            time.sleep(0.1)


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """→ (wall seconds, peak PSS KiB of the tree, peak RSS KiB of one process, output)."""
    ptce = str(Path(sys.executable).with_name("ptce"))
    t = time.perf_counter()
    proc = subprocess.Popen(
        [ptce, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t
    sampler.stop = True
    sampler.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ptce {' '.join(args)} exited {proc.returncode}:\n{out}")
    return wall, sampler.max_pss, sampler.max_rss, out


def one_file(corpus_dir: Path, home: Path, i: int, env: dict[str, str]) -> float:
    """`ptce ingest --settle 0` on one new file: wall time from the drop to its receipt."""
    drop(corpus_dir, home, [i])
    t = time.perf_counter()
    out = run_cli(["ingest", "--home", str(home), "--settle", "0"], env)[3]
    receipts = list((home / "inbox" / pole_id(i) / "retours").glob("*_recu.html"))
    if not receipts or "nouveaux 1" not in out:
        raise SystemExit(f"one file: no receipt\n{out}")
    return time.perf_counter() - t


@contextlib.contextmanager
def serving(home: Path, env: dict[str, str]):
    """A running `ptce serve` for the home (its schedules never fire during the benchmark)."""
    from ptce_pipeline.orchestration.prefect_env import free_port

    ptce = str(Path(sys.executable).with_name("ptce"))
    log = home / "serve-bench.log"
    args = [ptce, "serve", "--home", str(home), "--port", str(free_port())]
    args += ["--ingest-cron", "0 0 1 1 *", "--publish-cron", "0 0 1 1 *"]
    with open(log, "w") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 240
        while "Planification active" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"ptce serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


# --------------------------------------------------------------------------------------------
def naive(files: list[Path]) -> float:
    """What a national team would write: pandas.read_excel + pandera + one insert per file."""
    import duckdb
    import pandas as pd
    import pandera.pandas as pa

    schemas = {
        "Identité": pa.DataFrameSchema(
            {"Code": pa.Column(str), "Valeur": pa.Column(nullable=True)}
        ),
        "Membres": pa.DataFrameSchema(
            {"SIRET": pa.Column(nullable=True), "ETP": pa.Column(float, nullable=True, coerce=True)}
        ),
        "Indicateurs": pa.DataFrameSchema(
            {"Code": pa.Column(str), "Valeur": pa.Column(float, nullable=True, coerce=True)}
        ),
        "Critères": pa.DataFrameSchema(
            {"Code": pa.Column(str), "Réponse": pa.Column(nullable=True)}
        ),
    }
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE v (file VARCHAR, code VARCHAR, value DOUBLE)")
    t = time.perf_counter()
    for f in files:
        sheets = pd.read_excel(f, sheet_name=None, header=3, engine="openpyxl")
        for name, schema in schemas.items():
            df = sheets[name]
            if name == "Indicateurs":
                df = df[df["Code"].astype(str).str.match(r"^IND\d\d$")]
            if name == "Membres":
                df = (
                    df.dropna(subset=["Nom de l'organisation *"])
                    if "Nom de l'organisation *" in df
                    else df
                )
            with contextlib.suppress(pa.errors.SchemaErrors):
                schema.validate(df, lazy=True)
        ind = sheets["Indicateurs"]
        ind = ind[ind["Code"].astype(str).str.match(r"^IND\d\d$")]
        frame = pd.DataFrame(
            {
                "file": f.name,
                "code": ind["Code"],
                "value": pd.to_numeric(ind["Valeur"], errors="coerce"),
            }
        )
        con.register("frame", frame)
        con.execute("INSERT INTO v SELECT * FROM frame")
        con.unregister("frame")
    return time.perf_counter() - t


def read_floor(files: list[Path]) -> float:
    import python_calamine as pc

    t = time.perf_counter()
    cells = 0
    for f in files:
        book = pc.CalamineWorkbook.from_path(str(f))
        for name in book.sheet_names:
            for row in book.get_sheet_by_name(name).to_python():
                cells += len(row)
        book.close()
    return time.perf_counter() - t


# --------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument(
        "--naive-sample",
        type=int,
        default=0,
        help="time the naive baseline on this many files and scale (0: all files)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary homes")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    args = ap.parse_args()
    n = args.n
    corpus_dir = corpus(n)
    files = [corpus_dir / f"{pole_id(i)}.xlsx" for i in range(1, n + 1)]
    tmp = Path(tempfile.mkdtemp(prefix="ptce-bench-"))
    env = {**os.environ, "PTCE_SETTLE": "0", "PYTHONWARNINGS": "ignore"}
    env.pop("PTCE_HOME", None)
    results: dict[str, float | int | str] = {"n": n}
    try:
        # Prefect start-up: a run with nothing to do on an initialised home (its Prefect DB exists)
        empty = make_home(tmp / "empty", 0)
        run_cli(["init", "--home", str(empty)], env)
        run_cli(["ingest", "--home", str(empty)], env)  # first run: Prefect's database migrations
        startup, _, _, _ = run_cli(["ingest", "--home", str(empty)], env)
        results["prefect_startup_s"] = round(startup, 2)
        # 1. the pipeline
        home = make_home(tmp / "home", n)
        run_cli(["init", "--home", str(home)], env)
        shutil.copytree(empty / ".prefect", home / ".prefect", dirs_exist_ok=True)
        drop(corpus_dir, home, range(1, n + 1))
        wall, pss, rss, out = run_cli(["ingest", "--home", str(home), "--json"], env)
        report = json.loads(out[out.index("{") :])
        accepted = (
            report["statuses"]["acceptee"] + report["statuses"]["acceptee_avec_avertissements"]
        )
        if accepted != n:
            print(f"warning: {accepted} of {n} accepted: {report['files'][:2]}", file=sys.stderr)
        results.update(
            pipeline_s=round(wall, 2),
            pipeline_no_startup_s=round(wall - startup, 2),
            pipeline_wb_per_s=round(n / wall, 1),
            pipeline_wb_per_s_no_startup=round(n / max(wall - startup, 1e-9), 1),
            peak_pss_mib=round(pss / 1024),
            peak_rss_one_process_mib=round(rss / 1024),
        )
        for step, seconds in report.get("durations", {}).items():
            results[f"step_{step}_s"] = round(seconds, 2)
        # 4. incremental: nothing new, through the flow (the baseline) and without Prefect
        full_env = {**env, "PTCE_FAST_NOOP": "0"}
        wall = min(run_cli(["ingest", "--home", str(home), "--json"], full_env)[0] for _ in "ab")
        results["nothing_new_s"] = round(wall, 2)
        results["nothing_new_no_startup_s"] = round(wall - startup, 2)
        for verb in ("ingest", "run", "publish"):
            wall = min(run_cli([verb, "--home", str(home)], env)[0] for _ in "abc")
            results[f"nothing_new_fast_{verb}_s"] = round(wall, 2)
        drop(corpus_dir, home, range(n + 1, n + 11))
        wall, _, _, out = run_cli(["ingest", "--home", str(home), "--json"], env)
        report = json.loads(out[out.index("{") :])
        results["ten_new_on_top_s"] = round(wall, 2)
        results["ten_new_snapshot_s"] = round(report.get("durations", {}).get("instantané", 0.0), 2)
        alone = make_home(tmp / "alone", n)
        run_cli(["init", "--home", str(alone)], env)
        shutil.copytree(empty / ".prefect", alone / ".prefect", dirs_exist_ok=True)
        drop(corpus_dir, alone, range(n + 1, n + 11))
        wall, _, _, _ = run_cli(["ingest", "--home", str(alone)], env)
        results["ten_new_alone_s"] = round(wall, 2)
        # one new file, from drop to receipt, without and with a running `ptce serve`
        results["one_file_s"] = round(one_file(corpus_dir, home, n + 11, env), 2)
        with serving(home, env):
            results["one_file_serve_s"] = round(one_file(corpus_dir, home, n + 12, env), 2)
        # 5. publication
        from ptce_pipeline.config import load_settings
        from ptce_pipeline.publication import publish

        t = time.perf_counter()
        pub = publish(load_settings({}, home=home), [PERIOD])
        results["publication_s"] = round(time.perf_counter() - t, 2)
        d = pub.durations
        results["publication_national_tables_s"] = round(
            sum(v for k, v in d.items() if k != "fiches pôles"), 2
        )
        results["publication_fiches_s"] = round(d.get("fiches pôles", 0.0), 2)
        # `ptce --help`
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(
                [str(Path(sys.executable).with_name("ptce")), "--help"],
                capture_output=True,
                check=True,
            )
            times.append(time.perf_counter() - t)
        results["help_s"] = round(sorted(times)[2], 3)
        # 2. and 3. on the same files
        sample = files if not args.naive_sample else files[: args.naive_sample]
        naive_s = naive(sample) * (len(files) / len(sample))
        results["naive_s"] = round(naive_s, 2)
        results["naive_scaled_from"] = len(sample)
        results["read_floor_s"] = round(read_floor(files), 2)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    p = results["pipeline_no_startup_s"]
    results["ratio_naive_over_pipeline"] = round(results["naive_s"] / p, 2)
    results["ratio_pipeline_over_floor"] = round(p / results["read_floor_s"], 2)
    results["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results["date"] = time.strftime("%Y-%m-%d %H:%M")
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0


def print_table(r: dict) -> None:
    n = r["n"]
    rows = [
        ("workbooks", f"{n}"),
        (
            "pipeline, end to end (ptce ingest)",
            f"{r['pipeline_s']} s  ({r['pipeline_wb_per_s']} wb/s)",
        ),
        (
            "  without Prefect start-up",
            f"{r['pipeline_no_startup_s']} s  ({r['pipeline_wb_per_s_no_startup']} wb/s)",
        ),
        ("  Prefect start-up (ephemeral server)", f"{r['prefect_startup_s']} s"),
        (
            "naive pandas + pandera + insert per file",
            f"{r['naive_s']} s  (measured on {r['naive_scaled_from']})",
        ),
        ("read floor (python-calamine, 1 process)", f"{r['read_floor_s']} s"),
        ("naive / pipeline", f"{r['ratio_naive_over_pipeline']}×  (target ≥ 5×)"),
        ("pipeline / read floor", f"{r['ratio_pipeline_over_floor']}×  (target ≤ 5×)"),
        (
            "run with nothing new, through the flow",
            f"{r['nothing_new_s']} s  ({r['nothing_new_no_startup_s']} s without start-up)",
        ),
        (
            "  answered without Prefect (fast path)",
            f"ingest {r['nothing_new_fast_ingest_s']} s, run {r['nothing_new_fast_run_s']} s, "
            f"publish {r['nothing_new_fast_publish_s']} s  (target < 0.5 s)",
        ),
        (
            "one new file, drop to receipt (ingest --settle 0)",
            f"{r['one_file_s']} s  (with `ptce serve` running: {r['one_file_serve_s']} s, "
            "target < 3 s)",
        ),
        (
            "10 new on top of N",
            f"{r['ten_new_on_top_s']} s  (10 alone: {r['ten_new_alone_s']} s; snapshot {r['ten_new_snapshot_s']} s)",
        ),
        (
            "peak memory, whole tree (PSS)",
            f"{r['peak_pss_mib']} MiB  (largest process RSS {r['peak_rss_one_process_mib']} MiB)",
        ),
        (
            "publication of the period",
            f"{r['publication_s']} s  (national tables {r['publication_national_tables_s']} s, "
            f"{r['n']} fiches pôles {r['publication_fiches_s']} s)",
        ),
        ("ptce --help", f"{r['help_s']} s"),
    ]
    width = max(len(a) for a, _ in rows)
    print(f"\nptce-pipeline benchmark — {r['machine']}")
    for a, b in rows:
        print(f"  {a:<{width}}  {b}")
    steps = {k[5:-2]: v for k, v in r.items() if k.startswith("step_")}
    if steps:
        print("  steps of the N-file run: " + ", ".join(f"{k} {v} s" for k, v in steps.items()))


if __name__ == "__main__":
    sys.exit(main())
