"""One ingestion run, orchestrator-agnostic (the Prefect flow calls these steps).

discover → claim (archive + journal, then leave the inbox) → read and validate → decide (one
writer) → feedback → swap the new warehouse generation in → refresh the analysts' snapshot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline.catalogue.context import Config, load_config
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import PtceError, WarehouseError, describe_error
from ptce_pipeline.faults import fault_point
from ptce_pipeline.ingestion.inbox import (
    Candidate,
    Scan,
    ensure_pole_folders,
    quarantine_symlink,
    read_candidate,
    remove_claimed,
    scan_inbox,
)
from ptce_pipeline.ingestion.processing import Processor
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.store.configs import ConfigStore, record_config
from ptce_pipeline.store.journal import Journal, store, sync_archive
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.mirror import Mirror
from ptce_pipeline.store.snapshot import publish_snapshot
from ptce_pipeline.store.warehouse import (
    Generation,
    check_openable,
    cleanup_leftovers,
    load_reference,
)

APPLIED_FILE = "journal_applied"
MIN_CHUNK = 25  # files a task handles at least (a task costs ≈ 20 ms of orchestration)


@dataclass
class Claimed:
    candidate: Candidate
    sha256: str
    archived: Path
    size: int


@dataclass
class RunState:
    settings: Settings
    cfg: Config
    journal: Journal
    report: RunReport = field(default_factory=RunReport)
    scan: Scan | None = None


def applied_seq(settings: Settings) -> int:
    try:
        return int((settings.warehouse_dir / APPLIED_FILE).read_text().strip() or 0)
    except (OSError, ValueError):
        return -1


def _write_applied(settings: Settings, seq: int) -> None:
    path = settings.warehouse_dir / APPLIED_FILE
    tmp = path.with_name(f".{APPLIED_FILE}.tmp")
    tmp.write_text(str(seq))
    tmp.replace(path)


def _last_config(journal: Journal) -> dict | None:
    last = None
    for rec in journal.read():
        if rec.get("type") == "config":
            last = {k: v for k, v in rec.items() if k not in ("seq", "type", "at")}
    return last


def _snapshot_state(settings: Settings) -> tuple[list[int], int | None]:
    """From the analysts' snapshot: the submissions waiting for another try (our own earlier
    failure) and the journal position it reflects (None: no usable snapshot)."""
    if not settings.snapshot_db.exists():
        return [], None
    from ptce_pipeline.store.warehouse import connect

    try:
        con = connect(settings.snapshot_db, read_only=True)
    except Exception:
        return [], None
    try:
        waiting = [
            r[0]
            for r in con.execute(
                "SELECT submission_id FROM submissions WHERE status = 'en_attente'"
            ).fetchall()
        ]
        row = con.execute("SELECT value FROM meta WHERE key = 'journal_seq'").fetchone()
        return waiting, int(row[0]) if row else 0
    except Exception:
        return [], None
    finally:
        con.close()


def verify_live(settings: Settings) -> None:
    """Start-up check, after `warehouse.check_openable` (header, WAL replay, schema): every
    table read once, read-only (a few ms), so a damaged data block (bit rot, a torn copy)
    stops the run before anything is claimed, with a French message pointing to
    `ptce rebuild`, instead of being copied into the next generation."""
    if not settings.live_db.exists():
        return
    from ptce_pipeline.errors import WarehouseCorrupt
    from ptce_pipeline.store.warehouse import connect

    try:
        con = connect(settings.live_db, read_only=True)
    except WarehouseCorrupt:
        raise
    except WarehouseError:  # held by another program: Generation.open says so if it matters
        return
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema = 'main'"
            ).fetchall()
        ]
        for table in tables:
            con.execute(f'SELECT count(*), max(hash("{table}")) FROM "{table}"').fetchall()
    except Exception as exc:
        raise WarehouseCorrupt(
            f"L'entrepôt {settings.live_db} est endommagé "
            f"({str(exc).splitlines()[0][:160]}). Rien n'a été traité ; il se reconstruit à "
            "l'identique depuis l'archive et son journal : `ptce rebuild`."
        ) from None
    finally:
        con.close()


def undecided_deliveries(journal: Journal) -> list[int]:
    """Deliveries journaled without a decision (nor a failure) after them: claimed by a run
    that was killed, or whose load failed, before deciding them (a duplicate, an unknown
    sender, the files of a chunk that never loaded)."""
    delivered, decided = [], set()
    for rec in journal.read():
        kind = rec.get("type")
        if kind == "delivery":
            delivered.append(int(rec["seq"]))
        elif kind in ("decision", "failure"):
            decided.add(int(rec["delivery"]))
    return [did for did in delivered if did not in decided]


def sweep_feedback_temps(settings: Settings) -> None:
    """Remove the temporary feedback files an interrupted run left in `retours/`."""
    if not settings.inbox.is_dir():
        return
    for tmp in settings.inbox.glob("*/retours/.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def pending_retries(settings: Settings) -> list[int]:
    return _snapshot_state(settings)[0]


def discover(settings: Settings, settle: float, report: RunReport) -> Scan:
    t = time.perf_counter()
    scan = scan_inbox(settings, settle)
    for link in scan.symlinks:
        try:
            target = quarantine_symlink(settings, link)
            report.quarantined.append(
                f"{link.relative_to(settings.home)} → {target.relative_to(settings.home)}"
            )
        except OSError as exc:
            report.errors.append(f"lien symbolique {link.name} : {exc.strerror}")
    report.waiting = [str(p.relative_to(settings.home)) for p in scan.waiting]
    report.unreadable = [f"{p.relative_to(settings.home)} ({why})" for p, why in scan.unreadable]
    report.time("découverte", time.perf_counter() - t)
    return scan


def claim(
    settings: Settings,
    journal: Journal,
    candidates: list[Candidate],
    now: dt.datetime,
    already: set[tuple],
    failed: list[Candidate] | None = None,
) -> list[dict]:
    """Archive each file under its hash and journal its delivery, then take it out of the inbox."""
    claimed: list[tuple[Candidate, dict]] = []
    records = []
    for c in candidates:
        key = (c.folder, c.name, c.size, c.mtime_ns, c.ino)
        if key in already:  # journaled by an interrupted run: only the removal was missing
            remove_claimed(c)
            continue
        try:
            fault_point(settings, f"read:{c.name}")
            data = read_candidate(c)
        except FileNotFoundError:
            continue
        except OSError:
            if failed is not None:
                failed.append(c)
            continue
        if data is None:
            continue
        sha = hashlib.sha256(data).hexdigest()
        path = store(settings, data, sha, c.name)
        claimed.append(
            (
                c,
                {
                    "type": "delivery",
                    "at": now.isoformat(),
                    "folder": c.folder,
                    "name": c.name,
                    "size": len(data),
                    "sha256": sha,
                    "archived_path": str(path.relative_to(settings.home)),
                    "ino": c.ino,
                    "mtime_ns": c.mtime_ns,
                },
            )
        )
    if not claimed:
        return []
    sync_archive(settings)
    fault_point(settings, "after_archive")
    for _c, rec in claimed:
        records.append(journal.add(rec))
    journal.flush()
    fault_point(settings, "after_journal")
    for c, _rec in claimed:
        remove_claimed(c)
    return records


class IngestRun:
    """The steps of one ingestion run; `run_ingest` chains them, the Prefect flow makes each a
    task. The caller holds the warehouse lock."""

    def __init__(
        self,
        settings: Settings,
        *,
        settle: float | None = None,
        progress: Callable[[int, int], None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ):
        self.settings = settings
        self.settle = settings.settle_seconds if settle is None else settle
        self.progress = progress
        self.report = RunReport()
        self.cfg = load_config(settings)
        self.journal = Journal(settings)
        self.at = (now or settings.clock)()
        self.gen: Generation | None = None
        self.mirror: Mirror | None = None
        self.ledger: Ledger | None = None
        self.processor: Processor | None = None
        self.scan: Scan | None = None
        self.backlog_dids: list[int] = []
        self.already: set[tuple] = set()
        self.new_records: list[dict] = []
        self.retried: list[int] = []  # earlier failures tried again in this run
        self.last_config: dict | None = None
        self.to_read = 0
        self.read_so_far = 0
        self.counted: tuple | None = None  # the report before the chunk being loaded

    # 1 -------------------------------------------------------------------------------------------
    def discover(self) -> bool:
        """Look at the inbox; → whether there is anything to do."""
        s = self.settings
        ensure_pole_folders(s, self.cfg.registry.poles)
        self.journal.repair_tail()
        cleanup_leftovers(s)
        sweep_feedback_temps(s)
        # a warehouse that cannot be opened: say so now, point at `rebuild`
        upgrade = check_openable(s)
        verify_live(s)
        self.scan = discover(s, self.settle, self.report)
        last_seq = self.journal.next_seq() - 1
        applied = applied_seq(s)
        waiting, snapshot_seq = _snapshot_state(s)
        if (
            not upgrade
            and not self.scan.ready
            and last_seq <= applied
            and not waiting
            and s.live_db.exists()
        ):
            if snapshot_seq is None or snapshot_seq < applied:
                # an interrupted run swapped the warehouse in but not the analysts' snapshot
                self.snapshot()
            self.report.nothing_new = True
            self.report.ended = time.time()
            return False
        return True

    # 2 -------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open a new warehouse generation and finish what an interrupted run left."""
        from ptce_pipeline.store.warehouse import get_meta

        s = self.settings
        self.gen = Generation(s)
        con = self.gen.open()
        self.mirror = Mirror(con, self.cfg.personal_fields, faults=s)
        self.ledger = self.mirror.ledger
        store_ = ConfigStore(s, self.cfg)
        self.processor = Processor(
            s, self.mirror, self.journal, store_, self.report, progress=self.progress
        )
        applied = int(get_meta(con, "journal_seq") or 0)
        backlog = list(self.journal.read(after=applied))
        self.last_config = _last_config(self.journal)
        if self.last_config:
            store_.latest = store_.get(self.last_config)
        if backlog:
            t = time.perf_counter()
            self.report.recovered = self.processor.replay(backlog, self.cfg)
            self.report.time("reprise", time.perf_counter() - t)
        # claimed by a run that died or failed before deciding them: decide them now
        self.backlog_dids = undecided_deliveries(self.journal)
        self.already = {
            (r.get("folder", ""), r["name"], r["size"], r.get("mtime_ns"), r.get("ino"))
            for r in backlog
            if r.get("type") == "delivery"
        }
        record_config(self.journal, s, self.cfg, self.last_config, self.at)
        load_reference(con, self.cfg.ref, self.cfg.registry, self.cfg.campaigns, self.at)

    # 3 -------------------------------------------------------------------------------------------
    def claim(self, candidates: list[Candidate] | None = None) -> list[Candidate]:
        """Archive and journal the settled files, then take them out of the inbox.
        → the candidates that could not be read now (transient: retried)."""
        t = time.perf_counter()
        todo = self.scan.ready if candidates is None else candidates
        failed: list[Candidate] = []
        records = claim(self.settings, self.journal, todo, self.at, self.already, failed=failed)
        for rec in records:
            self.ledger.delivery(rec, registered=self.cfg.registered(rec.get("folder", "")))
        self.new_records.extend(records)
        self.report.time("archivage", time.perf_counter() - t)
        return failed

    def unclaimed(self, failed: list[Candidate], why: str) -> None:
        for c in failed:
            self.report.unreadable.append(f"{c.path.relative_to(self.settings.home)} ({why})")

    # 4 -------------------------------------------------------------------------------------------
    def plan(self) -> list[list]:
        """The deliveries to decide, in delivery order: new ones, and what earlier runs left
        (submissions waiting after our own failure, deliveries claimed but never decided by
        an interrupted or failed run), in chunks: at least `MIN_CHUNK` files a chunk, and
        enough chunks that reading chunk k+1 overlaps loading chunk k."""
        new = {int(r["seq"]) for r in self.new_records}
        waiting = {sid for sid, sub in self.ledger.subs.items() if sub["status"] == "en_attente"}
        self.retried = sorted((waiting | set(self.backlog_dids)) - new)
        pend = self.processor.plan(self.cfg, sorted(new | waiting | set(self.backlog_dids)))
        self.to_read = sum(1 for p in pend if p.needs)
        most = self.settings.chunk_size * max(1, self.settings.workers)
        least = min(MIN_CHUNK, self.settings.chunk_size)
        size = max(least, min(most, -(-len(pend) // 4)))
        return [pend[i : i + size] for i in range(0, len(pend), size)]

    def read_validate(self, chunk: list) -> dict:
        """Read (worker processes) and validate one chunk; progress counts across chunks."""
        offset, total = self.read_so_far, self.to_read
        if self.progress is not None and total:
            self.processor.progress = lambda done, _n: self.progress(offset + done, total)
        results = self.processor.read_validate(self.cfg, chunk, self.at)
        self.read_so_far += sum(1 for p in chunk if p.needs)
        return results

    def load(self, chunk: list, results: dict) -> None:
        """Decide and write one chunk (one transaction in the new generation), make its
        decisions durable (journal), then write the poles' feedback files."""
        self.processor.feedback_jobs = []
        self.counted = self.report.checkpoint()
        self.processor.decide(self.cfg, chunk, results, self.at)
        t = time.perf_counter()
        self.ledger.last_seq = self.journal.next_seq() - 1  # everything journaled is applied
        self.mirror.flush()
        self.report.time("chargement", time.perf_counter() - t)
        self.journal.flush()
        self.counted = None
        self.processor.write_feedback_jobs()

    # 5 -------------------------------------------------------------------------------------------
    def commit(self) -> None:
        self.ledger.last_seq = self.journal.next_seq() - 1
        if self.ledger.pending() or self.ledger.last_seq is not None:
            self.mirror.flush()
        self.journal.flush()
        fault_point(self.settings, "before_commit")
        self.gen.commit()
        self.close()
        fault_point(self.settings, "after_commit")
        _write_applied(self.settings, self.journal.next_seq() - 1)

    def snapshot(self) -> None:
        t = time.perf_counter()
        publish_snapshot(self.settings)
        self.report.snapshot = str(self.settings.snapshot_db.relative_to(self.settings.home))
        self.report.time("instantané", time.perf_counter() - t)

    def fail(self, exc: BaseException) -> None:
        """Our own failure during the load: the live warehouse stays as it was; the files
        claimed by this run are recorded `en_attente` (retried by the next run)."""
        self.abort()
        if self.counted is not None:  # the failed chunk's decisions were never written
            self.report.rollback(self.counted)
        self.report.errors.append(describe_error(exc))
        _degraded(
            self.settings,
            self.cfg,
            self.journal,
            self.new_records,
            self.report,
            self.at,
            retried=self.retried,
        )

    def abort(self) -> None:
        """Drop the new generation (the live warehouse stays as it was) and the readers."""
        if self.gen is not None:
            self.gen.abort()
        self.close()

    def close(self) -> None:
        if self.processor is not None:
            self.processor.close()

    def finish(self) -> RunReport:
        self.report.ended = time.time()
        return self.report


def run_ingest(
    settings: Settings,
    *,
    settle: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunReport:
    """Ingest everything new in the inbox, without Prefect (the flow runs the same steps)."""
    run = IngestRun(settings, settle=settle, progress=progress, now=now)
    if not run.discover():
        return run.finish()
    try:
        run.open()
        failed = run.claim()
        if failed:
            run.unclaimed(failed, "fichier momentanément illisible")
        for chunk in run.plan():
            run.load(chunk, run.read_validate(chunk))
        run.commit()
    except PtceError:
        run.abort()
        raise
    except Exception as exc:
        run.fail(exc)
        return run.finish()
    try:
        run.snapshot()
    except Exception as exc:
        run.report.errors.append("instantané des analystes non rafraîchi : " + describe_error(exc))
    return run.finish()


def _degraded(
    settings: Settings,
    cfg: Config,
    journal: Journal,
    new_records: list[dict],
    report: RunReport,
    at: dt.datetime,
    *,
    retried: list[int] = (),
) -> None:
    """The load failed (our fault): record the deliveries (and the earlier failures tried again)
    as en_attente with the reason — en_erreur after the third failed run — if the disk allows;
    otherwise the journal alone keeps them (the next run catches up)."""
    if not new_records and not retried:
        return
    reason = report.errors[-1] if report.errors else "échec du chargement"
    journal.discard()
    gen = Generation(settings)
    try:
        con = gen.open()
        mirror = Mirror(con, cfg.personal_fields)
        ledger = mirror.ledger
        from ptce_pipeline.store.warehouse import get_meta

        applied = int(get_meta(con, "journal_seq") or 0)
        processor = Processor(
            settings, mirror, journal, ConfigStore(settings, cfg), RunReport(), feedback=False
        )
        # everything journaled stays true: decisions of chunks flushed before the failure and
        # records caught up from an earlier run are applied, as `rebuild` would apply them
        backlog = list(journal.read(after=applied))
        try:
            processor.replay(backlog, cfg)
        finally:
            processor.close()
        decided = {int(r["delivery"]) for r in backlog if r.get("type") == "decision"}
        for did in [int(rec["seq"]) for rec in new_records] + list(retried):
            if did in decided:  # an earlier chunk of this run: the decision stands
                continue
            if did not in ledger.subs:
                # a duplicate or an unknown sender: nothing to mark; its delivery stays
                # undecided and the next run decides it
                continue
            sub = ledger.failure(did, reason, at)
            journal.add(
                {
                    "type": "failure",
                    "delivery": did,
                    "at": at.isoformat(),
                    "reason": reason[:500],
                }
            )
            if sub is not None:
                report.count(sub["status"])
        ledger.last_seq = journal.next_seq() - 1
        journal.flush()
        mirror.flush()
        gen.commit()
        _write_applied(settings, journal.next_seq() - 1)
        publish_snapshot(settings)
    except Exception as exc:  # the disk is still full: the journal keeps everything
        gen.abort()
        report.errors.append("état « en attente » non enregistré : " + describe_error(exc))


def ingest_summary_code(report: RunReport) -> int:
    return 1 if report.needs_attention else 0


__all__ = ["WarehouseError", "run_ingest"]
