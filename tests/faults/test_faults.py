"""Fault injection with real processes: whatever stops a run, the next run finishes the work,
nothing is lost and nothing is counted twice.

Each test runs `ptce` in its own session (its process group killed at the end) against the
session's Prefect test server, with `PTCE_FAULT=<kind>:<point>` (see `ptce_pipeline.faults`),
then checks the real warehouse, snapshot, archive, journal, inbox and publications, and
runs `ptce` again without the fault. The tally is printed at the end of the session (`helpers.tally`).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.procs import (
    PY,
    Procs,
    env_for,
    harness_url,
    journal,
    journal_seq,
    leftovers,
    logical,
    pid_alive,
    query,
    reached,
    release,
    sha256,
    wait_until,
)
from helpers.tally import FAULTS
from helpers.workbooks import drop, make_home

from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.template import demo

pytestmark = pytest.mark.usefixtures("prefect_harness")

PRE = {("PTCE-010", 2024), ("PTCE-011", 2024)}  # already in the warehouse before the fault
MAIN = [
    ("PTCE-001", 2024),
    ("PTCE-002", 2024),
    ("PTCE-003", 2024),
    ("PTCE-004", 2024),
    ("PTCE-005", 2025),  # refused
    ("PTCE-009", 2025),  # refused
    ("PTCE-013", 2025),  # accepted with warnings
]


# --- corpus and reference ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def books(ref) -> dict[tuple[str, int], bytes]:
    return {
        (pole, int(name[-9:-5])): data
        for pole, name, data in demo.workbooks(ref, 2012)
        if (pole, int(name[-9:-5])) in PRE | set(MAIN)
    }


def corpus(books) -> list[tuple[str, str, bytes]]:
    """The files of the faulty run: workbooks, a duplicate under another name, an unknown sender."""
    files = [(p, f"suivi_{p}_{y}.xlsx", books[(p, y)]) for p, y in MAIN]
    files.append(("PTCE-001", "suivi (copie).xlsx", books[("PTCE-001", 2024)]))
    files.append(("", "perdu.xlsx", books[("PTCE-002", 2024)]))
    return files


def prepared(root: Path, books):
    """A home with a warehouse holding PRE (ingested without faults), and the corpus dropped."""
    settings = make_home(root, PTCE_WORKERS="2", PTCE_CHUNK_SIZE="2")
    for pole, year in sorted(PRE):
        drop(settings, pole, f"suivi_{pole}_{year}.xlsx", books[(pole, year)])
    run_ingest(settings, settle=0)
    for folder, name, data in corpus(books):
        drop(settings, folder, name, data)
    return settings


@pytest.fixture(scope="session")
def expected(tmp_path_factory, books) -> dict:
    """What an uninterrupted run decides on the same files (the library, no fault)."""
    settings = prepared(tmp_path_factory.mktemp("reference") / "home", books)
    report = run_ingest(settings, settle=0)
    assert not report.errors and not report.failures
    return {"logical": logical(settings.live_db), "receipts": receipts(settings)}


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


@pytest.fixture
def world(tmp_path, books, expected, procs):
    return World(tmp_path, books, expected, procs)


def receipts(settings) -> list[str]:
    """Feedback files, without their time stamp (comparable across homes)."""
    return sorted(
        re.sub(r"^\d{8}-\d{6}_\d+_", "", p.name)
        for p in settings.inbox.glob("*/retours/*")
        if not p.name.startswith(".")
    )


class World:
    """One prepared home, its `ptce` processes and the checks every fault test makes."""

    def __init__(self, tmp_path: Path, books, expected, procs: Procs):
        self.settings = prepared(tmp_path / "home", books)
        self.s = self.settings
        self.books = books
        self.expected = expected
        self.procs = procs
        self.fault_dir = tmp_path / "faults"
        self.fault_dir.mkdir()
        self.files = corpus(books)
        self.old = {
            "live": sha256(self.s.live_db),
            "snapshot": sha256(self.s.snapshot_db),
            "logical": logical(self.s.live_db),
        }

    def env(self, fault: str | None = None, *, api: bool = True, **extra) -> dict[str, str]:
        extra = {"PTCE_CHUNK_SIZE": "2", "PTCE_FAULT_DIR": str(self.fault_dir), **extra}
        if fault:
            extra["PTCE_FAULT"] = fault
        return env_for(self.s, api_url=harness_url() if api else None, **extra)

    def ptce(self, *args: str, fault: str | None = None, **extra):
        return self.procs.run(*args, "--home", str(self.s.home), env=self.env(fault, **extra))

    def ingest(self, fault: str | None = None, **extra):
        return self.ptce("ingest", "--settle", "0", fault=fault, **extra)

    # -- the checks -----------------------------------------------------------------------------
    def old_or_new(self, db: Path, old_sha: str | None) -> str:
        """The file is byte-identical to before, or holds the complete new state: never a mix."""
        if sha256(db) == old_sha:
            return "old"
        assert logical(db) == self.expected["logical"], "a state that is neither old nor new"
        return "new"

    def nothing_lost(self) -> None:
        """Every dropped file is still in the inbox, or archived (and, once journaled, once)."""
        archived = {p.name.split(".")[0] for p in self.s.archive_dir.glob("*.xlsx")}
        lost = []
        for folder, name, data in self.files:
            path = (self.s.inbox / folder / name) if folder else self.s.inbox / name
            in_inbox = path.exists() and path.read_bytes() == data
            if not (in_inbox or hashlib.sha256(data).hexdigest() in archived):
                lost.append((folder, name))
        FAULTS["files checked"] += len(self.files)
        FAULTS["lost"] += len(lost)
        assert not lost

    def complete(self) -> None:
        """After the recovery run: the same state as an uninterrupted run, nothing twice."""
        s = self.s
        assert logical(s.live_db) == self.expected["logical"]
        assert logical(s.snapshot_db) == self.expected["logical"]
        assert journal_seq(s.snapshot_db) == journal_seq(s.live_db)
        deliveries = collections.Counter(
            (r.get("folder", ""), r["name"]) for r in journal(s) if r["type"] == "delivery"
        )
        twice = {k: n for k, n in deliveries.items() if n > 1}
        FAULTS["duplicates"] += len(twice) + (
            query(s.live_db, "SELECT count(*) FROM deliveries")[0][0] - len(self.files) - len(PRE)
        )
        assert not twice
        assert len(deliveries) == len(self.files) + len(PRE)
        for folder, name, _data in self.files:
            path = (s.inbox / folder / name) if folder else s.inbox / name
            assert not path.exists(), f"{name} left in the inbox"
        assert receipts(s) == self.expected["receipts"]  # each pole's feedback, once
        assert leftovers(s) == []
        self.nothing_lost()
        FAULTS["runs recovered"] += 1


def killed(result) -> None:
    assert result.code == -9, result
    FAULTS["faults injected"] += 1


# --- SIGKILL at chosen points -----------------------------------------------------------------
BEFORE_SWAP = [
    "after_archive",  # archived, not yet journaled
    "after_journal",  # journaled, still in the inbox
    "load_before_commit@2",  # mid-load: chunk 1 written in the new generation, chunk 2 not
    "load_commit@2",  # chunk 2's transaction complete but not committed
    "during_feedback@2",  # one file's feedback written, the next not
    "before_checkpoint",  # every decision in the new generation, not checkpointed
    "before_swap",  # the new generation on disk, not yet renamed over the live file
]
AFTER_SWAP = [
    "after_commit",  # the new warehouse is live; the snapshot is not refreshed
    "snapshot_before_checkpoint",  # the snapshot half-written under its temporary name
    "snapshot_before_swap",  # the snapshot written, not yet renamed into place
]


@pytest.mark.parametrize("point", BEFORE_SWAP + AFTER_SWAP)
def test_sigkill_then_the_next_run_finishes_the_work(world, point):
    s = world.s
    killed(world.ingest(f"kill:{point}"))
    # right after the kill: the live warehouse and the snapshot are old or new, never a mix
    live = world.old_or_new(s.live_db, world.old["live"])
    assert live == ("old" if point in BEFORE_SWAP else "new")
    assert world.old_or_new(s.snapshot_db, world.old["snapshot"]) == "old"
    world.nothing_lost()
    result = world.ingest()
    assert result.code == 0, result
    assert "Traceback" not in result.out + result.err
    world.complete()
    if point not in ("after_archive",):  # journaled: the run says it finished earlier work
        assert "Reprise après interruption" in result.out or point in AFTER_SWAP


def whole_site(folder: Path) -> int:
    """A publication folder is complete: its manifest, its pages and every file it lists.
    → its data version."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (folder / "index.html").exists()
    for table in manifest["tables"]:
        for key in ("csv", "parquet"):
            assert (folder / table[key]).exists(), table[key]
        if table["page"]:
            assert (folder / table["page"].split("#")[0]).exists()
    return manifest["data_version"]


def test_sigkill_while_publishing_leaves_the_old_tables_or_the_new(world):
    s = world.s
    assert world.ingest().code == 0
    assert world.ptce("publish").code == 0
    site = s.publications_for("interne") / "2024"
    old = whole_site(site)
    # new data for 2024, then publications killed mid-write, then mid-swap
    drop(s, "PTCE-006", "suivi_PTCE-006_2024.xlsx", demo_book(world, "PTCE-006", 2024))
    assert world.ingest().code == 0
    versions = []
    for point in ("publication_write", "publication_swap"):
        killed(world.ptce("publish", fault=f"kill:{point}"))
        if site.exists():  # never half-written: the old site or the new one, whole
            versions.append(whole_site(site))
    assert versions[0] == old and set(versions) <= {old, old + 1}
    result = world.ptce("publish")
    assert result.code == 0, result
    assert whole_site(site) == old + 1
    version = query(s.snapshot_db, "SELECT version FROM period_versions WHERE period = 2024")
    assert old + 1 == version[0][0]
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    assert "PTCE-006" in {sub["pole_id"] for sub in manifest["submissions"]}
    assert leftovers(s) == []
    FAULTS["runs recovered"] += 1


def demo_book(world, pole: str, year: int) -> bytes:
    from ptce_pipeline.catalogue.referentiel import load_referentiel

    for p, name, data in demo.workbooks(load_referentiel(), 2012):
        if p == pole and name.endswith(f"_{year}.xlsx"):
            return data
    raise KeyError(pole)


# --- two runs at once ---------------------------------------------------------------------------
SCHEDULED = """
import sys
from ptce_pipeline.flows.ingest import ingest_inbox
state = ingest_inbox(home=sys.argv[1], settle=0, return_state=True)
print(state.type.value, state.message, sep="|")
"""


def test_two_runs_at_once_exactly_one_writes(world):
    s = world.s
    holder = world.procs.ptce(
        "ingest", "--home", str(s.home), "--settle", "0", env=world.env("pause:after_archive")
    )
    marker = reached(world.fault_dir, "after_archive")
    assert wait_until(marker.exists, timeout=180), "the first run never reached the archive"
    archived = sorted(p.name for p in s.archive_dir.glob("*.xlsx"))
    # a CLI run: exit 3, one French line, nothing claimed
    cli = world.ingest()
    assert cli.code == 3, cli
    assert cli.out == ""
    (line,) = cli.err.strip().splitlines()
    assert line.startswith(
        f"Occupé : Une autre exécution tient déjà l'entrepôt (processus {holder.pid}, ptce ingest"
    )
    # a scheduled run (the flow takes the lock itself): Cancelled, nothing claimed
    flow = world.procs.wait(
        world.procs.start([PY, "-c", SCHEDULED, str(s.home)], world.env()), timeout=300
    )
    assert flow.code == 0, flow
    state, message = flow.out.strip().splitlines()[-1].split("|", 1)
    assert state == "CANCELLED" and message.startswith("Une autre exécution tient déjà")
    assert sorted(p.name for p in s.archive_dir.glob("*.xlsx")) == archived
    assert len([r for r in journal(s) if r["type"] == "delivery"]) == len(PRE)
    FAULTS["faults injected"] += 2
    release(world.fault_dir, "after_archive")
    first = world.procs.wait(holder)
    assert first.code == 0, first
    world.complete()


def test_two_runs_started_together(world):
    a = world.procs.ptce("ingest", "--home", str(world.s.home), "--settle", "0", env=world.env())
    b = world.procs.ptce("ingest", "--home", str(world.s.home), "--settle", "0", env=world.env())
    ra, rb = world.procs.wait(a), world.procs.wait(b)
    codes = sorted((ra.code, rb.code))
    loser = ra if ra.code == 3 else rb
    if codes == [0, 3]:
        assert loser.err.startswith("Occupé : ") and len(loser.err.strip().splitlines()) == 1
    else:  # the second started after the first had finished: it found nothing to do
        assert codes == [0, 0]
        assert any(r.out.startswith("Rien de nouveau") for r in (ra, rb))
    FAULTS["faults injected"] += 1
    world.complete()


# --- analysts holding the files ---------------------------------------------------------------
ANALYST = """
import sys, duckdb
path, mode, write = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
con = duckdb.connect(path, read_only=(mode == "ro"))
if write:
    con.execute("CREATE TABLE mes_essais AS SELECT 42 AS x")
print(con.execute("SELECT count(*) FROM deliveries").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM deliveries").fetchone()[0], flush=True)
"""


def analyst(world, db: Path, mode: str, write: bool = False) -> subprocess.Popen:
    proc = subprocess.Popen(
        [PY, "-c", ANALYST, str(db), mode, "1" if write else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    world.procs.started.append(proc)
    return proc


@pytest.mark.parametrize(
    ("which", "mode"), [("snapshot", "ro"), ("snapshot", "rw"), ("live", "ro")]
)
def test_an_analyst_holding_a_file_all_run_long_loses_nothing(world, which, mode):
    """Documented: the run replaces files by renaming, so an analyst's open connection keeps
    the state it opened (no error), a new connection sees the new state."""
    s = world.s
    db = s.snapshot_db if which == "snapshot" else s.live_db
    holder = analyst(world, db, mode)
    assert int(holder.stdout.readline()) == len(PRE)
    result = world.ingest()
    assert result.code == 0, result
    out, err = holder.communicate("\n", timeout=60)
    assert holder.returncode == 0, err
    assert int(out.strip()) == len(PRE)  # still the state it opened, no error
    FAULTS["faults injected"] += 1
    world.complete()


@pytest.mark.parametrize("write", [False, True], ids=["idle", "with-wal"])
def test_an_analyst_holding_the_live_file_read_write_stops_the_run_clearly(world, write):
    """Documented: a read-write session on the live file (a tool's default) may write into it,
    so the run does not go on beside it: nothing is claimed, one French line names the
    process; once it is closed (its write-ahead log, if any, replayed) the next run finishes."""
    s = world.s
    holder = analyst(world, s.live_db, "rw", write=write)
    assert int(holder.stdout.readline()) == len(PRE)
    assert Path(f"{s.live_db}.wal").exists() == write
    result = world.ingest()
    assert result.code == 2, result
    (line,) = result.err.strip().splitlines()
    assert line.startswith("Erreur : L'entrepôt") and f"(processus {holder.pid})" in line
    assert "ptce_lecture.duckdb" in line
    assert len([r for r in journal(s) if r["type"] == "delivery"]) == len(PRE)
    world.nothing_lost()
    holder.communicate("\n", timeout=60)
    FAULTS["faults injected"] += 1
    result = world.ingest()
    assert result.code == 0, result
    world.complete()


# --- full disk ----------------------------------------------------------------------------------
def test_disk_full_during_the_load(world):
    s = world.s
    result = world.ingest("enospc:load_before_commit")
    assert result.code == 1, result
    assert (
        "disque plein (ENOSPC)" in result.out and "l'entrepôt vivant n'a pas changé" in result.out
    )
    FAULTS["faults injected"] += 1
    statuses = query(s.live_db, "SELECT pole_id, status FROM submissions ORDER BY pole_id")
    assert statuses == sorted(
        [(p, "en_attente") for p, _y in MAIN] + [(p, "acceptee") for p, _y in PRE]
    )
    assert "Traceback" not in result.out + result.err
    world.nothing_lost()
    result = world.ingest()
    assert result.code == 0, result
    world.complete()


def test_disk_full_while_writing_the_snapshot(world):
    s = world.s
    result = world.ingest("enospc:snapshot_before_checkpoint")
    assert result.code == 1, result
    assert "instantané des analystes non rafraîchi : disque plein" in result.out
    FAULTS["faults injected"] += 1
    assert world.old_or_new(s.live_db, world.old["live"]) == "new"
    assert sha256(s.snapshot_db) == world.old["snapshot"]
    result = world.ingest()  # nothing new in the inbox, but the snapshot is refreshed
    assert result.code == 0, result
    assert result.out.startswith("Rien de nouveau")
    world.complete()


def test_disk_full_while_publishing(world):
    s = world.s
    assert world.ingest().code == 0
    assert world.ptce("publish").code == 0
    index = s.publications_for("interne") / "2024" / "index.html"
    manifest = index.parent / "manifest.json"
    before, old_manifest = index.read_bytes(), json.loads(manifest.read_text(encoding="utf-8"))
    drop(s, "PTCE-006", "suivi_PTCE-006_2024.xlsx", demo_book(world, "PTCE-006", 2024))
    assert world.ingest().code == 0
    result = world.ptce("publish", fault="enospc:publication_write")
    assert result.code == 1, result
    assert result.out.startswith("Publication non faite : disque plein (ENOSPC)")
    assert "publications déjà en ligne n'ont pas changé" in result.out
    FAULTS["faults injected"] += 1
    assert index.read_bytes() == before
    assert json.loads(manifest.read_text(encoding="utf-8")) == old_manifest
    result = world.ptce("publish")
    assert result.code == 0 and "Tableaux 2024 publiés" in result.out, result
    now = json.loads(manifest.read_text(encoding="utf-8"))
    assert now["data_version"] == old_manifest["data_version"] + 1
    assert leftovers(s) == []
    FAULTS["runs recovered"] += 1


@pytest.fixture
def small_disk(tmp_path):
    """A real small filesystem (tmpfs) for the warehouse; skipped where mount is not allowed."""
    mount = tmp_path / "home" / "warehouse"
    mount.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("room", ["archive", "archive+copy"])
def test_a_really_full_disk(small_disk, tmp_path, books, expected, procs, room):
    """The warehouse on a real 48 MB filesystem filled up, leaving room for the archive only,
    or for the archive and the copy of the live file: whatever step hits the wall, the live
    warehouse is intact, nothing is lost, the error says so, the next run with room finishes."""
    world = World(tmp_path, books, expected, procs)
    s = world.s
    need = sum(len(d) for d in {d for _f, _n, d in world.files}) + 256 * 1024
    if room == "archive+copy":
        need += s.live_db.stat().st_size + 256 * 1024
    filler = small_disk / "remplissage"
    stat = os.statvfs(small_disk)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as fh:
        fh.truncate(0)
        remaining = free - need
        block = b"\0" * (1 << 20)
        while remaining > 0:
            fh.write(block[: min(len(block), remaining)])
            remaining -= len(block)
    result = world.ingest()
    FAULTS["faults injected"] += 1
    assert result.code in (1, 2), result
    assert "disque plein" in (result.out + result.err)
    assert "Traceback" not in result.out + result.err
    verify_opens(s.live_db)  # intact: every table reads back
    world.nothing_lost()
    filler.unlink()
    result = world.ingest()
    assert result.code == 0, result
    world.complete()


def verify_opens(db: Path) -> None:
    from ptce_pipeline.store.health import verify_live

    class S:
        live_db = db

    verify_live(S)


# --- runaway parses -----------------------------------------------------------------------------
def test_a_hanging_parse_is_killed_and_refused_the_run_goes_on(world):
    # the reader sees the archived copy, named by its hash
    sha = hashlib.sha256(world.books[("PTCE-003", 2024)]).hexdigest()
    result = world.ingest(f"hang:{sha[:16]}", PTCE_PARSE_TIMEOUT="2")
    assert result.code == 0, result
    assert "Refusé : PTCE-003/suivi_PTCE-003_2024.xlsx" in result.out
    issues = query(world.s.live_db, "SELECT code FROM validation_issues WHERE code = 'too-slow'")
    assert issues == [("too-slow",)]
    accepted = query(world.s.live_db, "SELECT count(*) FROM current_submissions")[0][0]
    assert accepted == len(PRE) + 4  # the others went through
    FAULTS["faults injected"] += 1
    world.nothing_lost()


def test_a_parse_eating_memory_is_killed_and_refused_the_run_goes_on(world, ref):
    """No pre-flight (its extent check would refuse the file first): the reader process hits
    its memory limit on a sheet claiming 16 384 × 1 048 576 cells, dies, and only that file is
    refused."""
    from helpers.workbooks import filled, workbook

    def stray(wb):
        wb["Indicateurs"]["XFD1048576"] = "x"

    bomb = workbook(ref, filled(ref, "PTCE-006", 2024), edit=stray)
    drop(world.s, "PTCE-006", "enorme.xlsx", bomb)
    world.files.append(("PTCE-006", "enorme.xlsx", bomb))
    result = world.ingest(PTCE_PREFLIGHT="0", PTCE_WORKER_MEMORY_MB="600")
    assert result.code == 0, result
    assert "Refusé : PTCE-006/enorme.xlsx" in result.out
    issues = query(
        world.s.live_db,
        "SELECT s.original_name FROM validation_issues i JOIN submissions s USING (submission_id) "
        "WHERE i.code = 'too-large'",
    )
    assert issues == [("enorme.xlsx",)]
    accepted = query(world.s.live_db, "SELECT count(*) FROM current_submissions")[0][0]
    assert accepted == len(PRE) + 5
    FAULTS["faults injected"] += 1
    world.nothing_lost()


# --- a damaged warehouse ------------------------------------------------------------------------
def _flip_blocks(db: Path) -> None:
    """Bit rot: a few bytes changed inside every 256 KiB block (after the file headers)."""
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        for offset in range(3 * 4096 + 512, size, 256 * 1024):
            fh.seek(offset)
            fh.write(os.urandom(16))


def _truncate(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _header(db: Path) -> None:
    with open(db, "r+b") as fh:
        fh.write(os.urandom(64))


def _bad_wal(db: Path) -> None:
    """A real write-ahead log (a writer killed before its checkpoint), then damaged."""
    code = (
        "import duckdb, os, signal, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('CREATE TABLE essai AS SELECT range AS x FROM range(1000)')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=False)
    wal = Path(f"{db}.wal")
    assert wal.stat().st_size > 0
    with open(wal, "r+b") as fh:
        fh.seek(wal.stat().st_size // 2)
        fh.write(os.urandom(64))


@pytest.mark.parametrize("damage", [_flip_blocks, _truncate, _header, _bad_wal])
def test_a_damaged_warehouse_is_detected_at_start_up(world, damage):
    s = world.s
    damage(s.live_db)
    FAULTS["faults injected"] += 1
    result = world.ingest()
    assert result.code == 2, result
    (line,) = result.err.strip().splitlines()
    assert line.startswith("Erreur : L'entrepôt") and "`ptce rebuild`" in line, line
    assert "Traceback" not in result.out + result.err
    assert len([r for r in journal(s) if r["type"] == "delivery"]) == len(PRE)  # nothing claimed
    world.nothing_lost()
    # the warehouse is rebuilt from the archive and its journal, then the run finishes
    rebuilt = world.ptce("rebuild")
    assert rebuilt.code == 0, rebuilt
    assert logical(s.live_db) == world.old["logical"]
    result = world.ingest()
    assert result.code == 0, result
    world.complete()


# --- the temporary Prefect server never outlives its run --------------------------------------
def test_a_killed_cli_run_leaves_no_prefect_server_behind(world):
    s = world.s
    run = world.procs.ptce(
        "ingest",
        "--home",
        str(s.home),
        "--settle",
        "0",
        env=world.env("pause:after_archive", api=False),
    )
    marker = reached(world.fault_dir, "after_archive")
    assert wait_until(marker.exists, timeout=240), "the run never reached the archive"
    pid_file = s.prefect_dir / "serveur-temporaire.pid"
    server = int(pid_file.read_text())
    assert pid_alive(server)
    os.kill(run.pid, 9)  # the run only (as the OOM killer would), not its group
    run.wait(30)
    FAULTS["faults injected"] += 1
    assert wait_until(lambda: not pid_alive(server), timeout=60), "Prefect server left running"
    result = world.ingest()
    assert result.code == 0, result
    world.complete()


def test_the_readme_lists_every_fault_point():
    """docs/guarantees.md ("Faults") names each point where a fault can be injected, no more."""
    root = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("ptce_pipeline", "flows")
        for p in (root / folder).rglob("*.py")
    )
    points = set(re.findall(r'fault_point\([\w.]+, f?"([^"{]+)', code))
    doc = (root / "docs" / "guarantees.md").read_text(encoding="utf-8")
    section = doc.split("### Faults", 1)[1].split("\n## ", 1)[0]
    paragraph = section.split("Fault points", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", paragraph))
    assert points - {"read:"} <= listed and "read:<file name>" in section
    assert {p for p in listed if "_" in p} <= points
