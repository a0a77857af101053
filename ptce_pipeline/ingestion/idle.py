"""Is there anything for an ingestion run to do? A cheap look, without an orchestrator and
without writing anything, so that a run with nothing to do answers at once (`ptce ingest`,
`ptce run`: `orchestration.noop`).

The look is conservative: it answers with the report of an idle run only when the full run
would find nothing to take, nothing to finish and nothing to tidy — the same conditions as
`IngestRun.discover` (`caught_up`), plus every piece of housekeeping `discover` would do
(folders to make, leftovers to sweep, a torn journal tail, links to move aside) found
unnecessary. Anything else, or any doubt (an error, a file it cannot list), → None: the full
run decides, and says what it says today. The caller holds the warehouse lock, so nothing
changes under the look; a file that arrives just after it is taken by the next run, as a
file arriving just after a full run's scan is."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from ptce_pipeline.catalogue.context import load_config
from ptce_pipeline.config import FEEDBACK_DIR, Settings
from ptce_pipeline.fsafe import TEMP_PREFIX, TEMP_SUFFIX
from ptce_pipeline.ingestion.inbox import scan_inbox
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.store.health import applied_seq, snapshot_state, verify_live
from ptce_pipeline.store.journal import Journal, display_name
from ptce_pipeline.store.warehouse import check_openable

# what `warehouse.cleanup_leftovers` and `journal.sweep_incoming` remove
_LEFTOVERS = ("ptce.next.duckdb*", ".ptce_lecture.*", "*.duckdb.tmp*")
_INCOMING = ".incoming.*.tmp"


def caught_up(
    settings: Settings,
    *,
    upgrade: bool,
    last_seq: int,
    applied: int,
    waiting: list[int],
) -> bool:
    """Nothing in the journal, the warehouse or the snapshot's waiting list for a run to
    finish (the condition `IngestRun.discover` and `idle_report` share; new files and
    misshapen inbox entries are checked by each)."""
    return not upgrade and last_seq <= applied and not waiting and settings.live_db.exists()


def idle_report(settings: Settings) -> RunReport | None:
    """The report the full run would give when it has nothing to do, or None (the full run
    must look: there is work, housekeeping, or a doubt)."""
    try:
        return _look(settings)
    except Exception:  # whatever it is, the full run meets it and says it
        return None


def _is_dir(path: str | Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _housekeeping_needed(settings: Settings, poles) -> bool:
    """Whether `discover` would write anything before scanning: make a folder, set aside an
    entry in the wrong shape, sweep a leftover. One listing of the inbox and one of each
    `retours/` (thousands of poles: string paths, no more system calls than needed)."""
    s = settings
    for folder in (s.warehouse_dir, s.archive_dir):  # `check_writable`, without writing
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            return True
    if any(next(s.warehouse_dir.glob(p), None) for p in _LEFTOVERS):
        return True
    if s.archive_dir.is_dir() and next(s.archive_dir.glob(_INCOMING), None):
        return True
    if Path(str(s.live_db) + ".wal").exists():  # `check_live` would fold it in
        return True
    inbox = os.fspath(s.inbox)
    if not _is_dir(inbox):  # missing, a file, a link: `misshapen`, `ensure_pole_folders`
        return True
    with os.scandir(inbox) as entries:
        folders = {e.name for e in entries if e.is_dir(follow_symlinks=False)}
    registered = set(poles)
    if not registered <= folders:  # a pole's folder to make, or in the wrong shape
        return True
    for pole in folders:  # `ensure_pole_folders` and `sweep_feedback_temps`
        retours = f"{inbox}/{pole}/{FEEDBACK_DIR}"
        if not _is_dir(retours):
            if pole in registered:  # to make, or in the wrong shape (a link is moved aside)
                return True
            continue
        with os.scandir(retours) as entries:
            if any(
                e.name.startswith(TEMP_PREFIX) and e.name.endswith(TEMP_SUFFIX) for e in entries
            ):
                return True
    return False


def _look(settings: Settings) -> RunReport | None:
    s = settings
    report = RunReport()
    cfg = load_config(s)
    if not s.live_db.exists() or _housekeeping_needed(s, cfg.registry.poles):
        return None
    last_seq = Journal(s).tail_seq()
    if last_seq is None:  # a torn tail: `repair_tail` cuts it
        return None
    upgrade = check_openable(s)
    verify_live(s)
    t = time.perf_counter()
    scan = scan_inbox(s, s.settle_seconds)
    if scan.ready or scan.symlinks or scan.unreadable:
        return None
    applied = applied_seq(s)
    waiting, snapshot_seq = snapshot_state(s)
    if not caught_up(s, upgrade=upgrade, last_seq=last_seq, applied=applied, waiting=waiting):
        return None
    if snapshot_seq is None or snapshot_seq < applied:  # the full run refreshes it
        return None
    report.waiting = [display_name(str(p.relative_to(s.home))) for p in scan.waiting]
    report.time("découverte", time.perf_counter() - t)
    report.nothing_new = True
    report.ended = time.time()
    return report
