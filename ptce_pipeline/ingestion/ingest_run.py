"""The steps of one ingestion run, orchestrator-agnostic (`steps.drive` chains them).

discover → claim (archive + journal, then leave the inbox) → read and validate → decide (one
writer) → feedback → swap the new warehouse generation in → refresh the analysts' snapshot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable

from ptce_pipeline.catalogue.context import load_config
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import describe_error
from ptce_pipeline.errors import os_reason as why
from ptce_pipeline.faults import fault_point
from ptce_pipeline.ingestion.degraded import record_waiting
from ptce_pipeline.ingestion.housekeeping import (
    candidate_key,
    check_writable,
    not_removed_keys,
    sweep_feedback_temps,
    undecided_deliveries,
)
from ptce_pipeline.ingestion.idle import caught_up
from ptce_pipeline.ingestion.inbox import (
    Candidate,
    Scan,
    archive_candidate,
    ensure_pole_folders,
    misshapen,
    quarantine_symlink,
    remove_claimed,
    scan_inbox,
)
from ptce_pipeline.ingestion.readvalidate import Pending
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.ingestion.set_aside import (
    TOO_LARGE,
    reason_for,
    set_aside,
    set_aside_line,
)
from ptce_pipeline.ingestion.unit import UnitOfWork
from ptce_pipeline.store.health import applied_seq, snapshot_state, verify_live
from ptce_pipeline.store.journal import (
    Journal,
    display_name,
    name_fields,
    sweep_incoming,
    sync_archive,
)
from ptce_pipeline.store.snapshot import publish_snapshot
from ptce_pipeline.store.warehouse import check_openable, cleanup_leftovers

MIN_CHUNK = 25  # files a task handles at least (a task costs ≈ 20 ms of orchestration)


def discover(settings: Settings, settle: float, report: RunReport) -> Scan:
    t = time.perf_counter()
    scan = scan_inbox(settings, settle)
    for link in scan.symlinks:
        try:
            target = quarantine_symlink(settings, link)
            report.quarantined.append(
                display_name(
                    f"{link.relative_to(settings.home)} → {target.relative_to(settings.home)}"
                )
            )
        except OSError as exc:
            report.errors.append(f"lien symbolique {display_name(link.name)} : {exc.strerror}")
    report.waiting = [display_name(str(p.relative_to(settings.home))) for p in scan.waiting]
    report.unreadable = [
        display_name(f"{p.relative_to(settings.home)} ({why})") for p, why in scan.unreadable
    ]
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
    """Archive each file under its hash (streaming: never the whole file in memory) and
    journal its delivery, then take it out of the inbox. A file over the hard size bound is
    set aside whole (`set_aside`); one that cannot be removed is journaled `not_removed`."""
    claimed: list[tuple[Candidate | None, dict]] = []
    records = []
    for c in candidates:
        if candidate_key(c) in already:  # journaled by an interrupted run: only the removal
            with contextlib.suppress(OSError):  # was missing (a failure was reported then)
                remove_claimed(c, settings.inbox)
            continue
        try:
            fault_point(settings, f"read:{c.name}")
            if c.size > settings.limits.max_file_bytes:
                claimed.append((None, set_aside(settings, c.path, c.folder, TOO_LARGE, now)))
                continue
            stored = archive_candidate(settings, c)
        except FileNotFoundError:
            continue
        except OSError:
            if failed is not None:
                failed.append(c)
            continue
        if stored is None:
            continue
        sha, size, path = stored
        claimed.append(
            (
                c,
                {
                    "type": "delivery",
                    "at": now.isoformat(),
                    "folder": c.folder,
                    **name_fields(c.name),
                    "size": size,
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
    stuck = []
    for (c, _rec), rec in zip(claimed, records, strict=True):
        if c is None:
            continue
        try:
            remove_claimed(c, settings.inbox)
        except OSError as exc:  # a folder the pole locked: the others go on
            stuck.append(
                journal.add(
                    {
                        "type": "not_removed",
                        "delivery": rec["seq"],
                        "at": now.isoformat(),
                        "folder": c.folder,
                        "name": rec["name"],
                        "size": c.size,
                        "mtime_ns": c.mtime_ns,
                        "ino": c.ino,
                        "reason": why(exc),
                    }
                )
            )
    if stuck:
        journal.flush()
    return records + stuck


class IngestRun:
    """The steps of one ingestion run (`steps.drive` chains them, for the plain runner and
    for the Prefect flow alike). The caller holds the warehouse lock."""

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
        self.unit: UnitOfWork | None = None
        self.scan: Scan | None = None
        self.backlog_dids: list[int] = []
        self.already: set[tuple] = set()
        self.new_records: list[dict] = []
        self.retried: list[int] = []  # earlier failures tried again in this run
        self.misshapen: list = []  # inbox entries in the wrong shape, set aside at claim time
        self.to_read = 0
        self.read_so_far = 0
        self.counted: tuple | None = None  # the report before the chunk being loaded
        self.planned: set[int] = set()  # the deliveries and submissions planned so far

    # 1 -------------------------------------------------------------------------------------------
    def discover(self) -> bool:
        """Look at the inbox; → whether there is anything to do."""
        s = self.settings
        check_writable(s)
        poles = self.cfg.registry.poles
        self.misshapen = misshapen(s, poles)
        ensure_pole_folders(s, poles)  # those that cannot be made: misshapen, set aside below
        self.journal.repair_tail()
        cleanup_leftovers(s)
        sweep_incoming(s)
        sweep_feedback_temps(s)
        # a warehouse that cannot be opened: say so now, point at `rebuild`
        upgrade = check_openable(s)
        verify_live(s)
        self.scan = discover(s, self.settle, self.report)
        self._leave_stuck_and_misshapen()
        last_seq = self.journal.next_seq() - 1
        applied = applied_seq(s)
        waiting, snapshot_seq = snapshot_state(s)
        if (
            not self.scan.ready
            and not self.misshapen
            and caught_up(s, upgrade=upgrade, last_seq=last_seq, applied=applied, waiting=waiting)
        ):
            if snapshot_seq is None or snapshot_seq < applied:
                # an interrupted run swapped the warehouse in but not the analysts' snapshot
                self.snapshot()
            self.report.nothing_new = True
            self.report.ended = time.time()
            return False
        return True

    def _leave_stuck_and_misshapen(self) -> None:
        """Drop from the ready files those set aside below, and those decided but not
        removable (reported once, when it happened: tried again silently)."""
        bad = set(self.misshapen)
        stuck = not_removed_keys(self.journal)
        ready = []
        for c in self.scan.ready:
            if c.path in bad:
                continue
            if candidate_key(c) in stuck:
                with contextlib.suppress(OSError):
                    remove_claimed(c, self.settings.inbox)
                continue
            ready.append(c)
        self.scan.ready = ready

    def set_aside_misshapen(self) -> None:
        """Set aside the inbox entries in the wrong shape (journaled `ecartee`), then make the
        folders they stood in the way of."""
        s, records = self.settings, []
        for path in self.misshapen:
            folder, reason = reason_for(s, path)
            try:
                records.append(set_aside(s, path, folder, reason, self.at))
            except OSError as exc:
                self.report.errors.append(
                    display_name(
                        f"{path.relative_to(s.home)} : impossible de mettre de côté ({why(exc)})"
                    )
                )
        self.misshapen = []
        if records:
            sync_archive(s)
            for rec in records:
                self.record(self.journal.add(rec))
            self.journal.flush()
        for pole_id, reason in ensure_pole_folders(s, self.cfg.registry.poles):
            self.report.errors.append(f"dossier inbox/{pole_id} impossible à créer : {reason}")

    def record(self, rec: dict) -> None:
        """Account one journaled record of the claim step into the ledger and the report."""
        if rec.get("type") == "not_removed":
            self.report.not_removed.append(
                display_name(f"{rec['folder']}/{rec['name']} ({rec.get('reason', '')})")
            )
            return
        self.unit.ledger.delivery(rec, registered=self.cfg.registered(rec.get("folder", "")))
        if rec.get("set_aside"):
            self.report.set_aside.append(set_aside_line(rec))
        else:
            self.new_records.append(rec)

    # 2 -------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open a new warehouse generation and finish what an interrupted run left."""
        self.unit = UnitOfWork(self.settings, self.cfg, self.journal, self.report, self.at)
        backlog = self.unit.open()
        # claimed by a run that died or failed before deciding them: decide them now
        self.backlog_dids = undecided_deliveries(self.journal)
        self.already = {
            (r.get("folder", ""), r["name"], r["size"], r.get("mtime_ns"), r.get("ino"))
            for r in backlog
            if r.get("type") == "delivery"
        }

    # 3 -------------------------------------------------------------------------------------------
    def claim(self, candidates: list[Candidate] | None = None) -> list[Candidate]:
        """Archive and journal the settled files, then take them out of the inbox.
        → the candidates that could not be read now (transient: retried)."""
        t = time.perf_counter()
        if candidates is None:
            self.set_aside_misshapen()
        todo = self.scan.ready if candidates is None else candidates
        failed: list[Candidate] = []
        records = claim(self.settings, self.journal, todo, self.at, self.already, failed=failed)
        for rec in records:
            self.record(rec)
        self.report.time("archivage", time.perf_counter() - t)
        return failed

    def claim_again(self, candidates: list[Candidate]) -> list[Candidate]:
        """The files that could not be read at claim time, once more → those still unreadable
        (the Prefect flow retries this step with backoff)."""
        return self.claim(candidates)

    def unclaimed(self, failed: list[Candidate], why: str) -> None:
        for c in failed:
            self.report.unreadable.append(
                display_name(f"{c.path.relative_to(self.settings.home)} ({why})")
            )

    # 4 -------------------------------------------------------------------------------------------
    def look_again(self) -> bool:
        """Before the run commits: the files that became ready while it ran (written whole by
        the portal, or settled since) join it, so an upload that lands during a run is not
        left for the next one. Claims them → whether there is anything new to plan."""
        scan = scan_inbox(self.settings, self.settle)
        stuck = not_removed_keys(self.journal)
        # an entry in the wrong shape (a `retours` that is a file…) is the next run's to set
        # aside, never a delivery
        bad = set(misshapen(self.settings, self.cfg.registry.poles))
        ready = [c for c in scan.ready if candidate_key(c) not in stuck and c.path not in bad]
        if not ready:
            return False
        before = len(self.new_records)
        self.claim(ready)  # one that cannot be read now stays in the inbox for the next run
        return len(self.new_records) > before

    def plan_more(self) -> list[list[Pending]]:
        """The deliveries claimed by `look_again`, not planned yet, in one chunk."""
        fresh = [r for r in self.new_records if int(r["seq"]) not in self.planned]
        seqs = sorted(int(r["seq"]) for r in fresh)
        self.planned |= set(seqs)
        pend = self.unit.decider.plan(self.cfg, seqs)
        self.to_read += sum(1 for p in pend if p.needs)
        return [pend] if pend else []

    def plan(self) -> list[list[Pending]]:
        """The deliveries to decide, in delivery order: new ones, and what earlier runs left
        (submissions waiting after our own failure, deliveries claimed but never decided by
        an interrupted or failed run), in chunks: at least `MIN_CHUNK` files a chunk, and
        enough chunks that reading chunk k+1 overlaps loading chunk k."""
        new = {int(r["seq"]) for r in self.new_records}
        subs = self.unit.ledger.subs
        waiting = {sid for sid, sub in subs.items() if sub["status"] == "en_attente"}
        self.retried = sorted((waiting | set(self.backlog_dids)) - new)
        self.planned = new | waiting | set(self.backlog_dids)
        pend = self.unit.decider.plan(self.cfg, sorted(self.planned))
        self.to_read = sum(1 for p in pend if p.needs)
        most = self.settings.chunk_size * max(1, self.settings.workers)
        least = min(MIN_CHUNK, self.settings.chunk_size)
        size = max(least, min(most, -(-len(pend) // 4)))
        return [pend[i : i + size] for i in range(0, len(pend), size)]

    def read_validate(self, chunk: list[Pending]) -> dict:
        """Read (worker processes) and validate one chunk; progress counts across chunks."""
        offset, total = self.read_so_far, self.to_read
        progress = None
        if self.progress is not None and total:

            def progress(done: int, _n: int) -> None:
                self.progress(offset + done, total)

        results = self.unit.readvalidate.pending(self.cfg, chunk, self.at, progress)
        self.read_so_far += sum(1 for p in chunk if p.needs)
        return results

    def load(self, chunk: list[Pending], results: dict) -> None:
        """Decide and write one chunk (one transaction in the new generation), make its
        decisions durable (journal), then write the poles' feedback files."""
        feedback = self.unit.feedback
        feedback.hold()
        self.counted = self.report.checkpoint()
        self.unit.decider.decide(self.cfg, chunk, results, self.at)
        t = time.perf_counter()
        self.unit.flush()
        self.report.time("chargement", time.perf_counter() - t)
        self.journal.flush()
        self.counted = None
        feedback.write()

    # 5 -------------------------------------------------------------------------------------------
    def commit(self) -> None:
        self.unit.commit()

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
        record_waiting(
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
        if self.unit is not None:
            self.unit.abort()

    def finish(self) -> RunReport:
        self.report.ended = time.time()
        return self.report
