"""The unit of work of every change to the warehouse (an ingestion run, a correction, the
degraded path): open a new warehouse generation, finish what an interrupted run left (replay
the journal backlog), record the configuration in force; then `commit()` (journal durable,
generation swapped in) or `abort()` (the live warehouse stays as it was).

`Machinery` is the set of objects that read, validate, decide and replay into one
connection; `rebuild` assembles it on a new file."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from ptce_pipeline.catalogue.context import Config
from ptce_pipeline.config import Settings
from ptce_pipeline.faults import fault_point
from ptce_pipeline.ingestion.deciding import Decider
from ptce_pipeline.ingestion.feedback_jobs import FeedbackJobs
from ptce_pipeline.ingestion.readvalidate import ReadValidate
from ptce_pipeline.ingestion.replay import Replayer
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.store.configs import ConfigStore, record_config
from ptce_pipeline.store.health import write_applied
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.mirror import Mirror
from ptce_pipeline.store.outbox import mirror_outbox
from ptce_pipeline.store.records import MIGRATION_USER
from ptce_pipeline.store.warehouse import Generation, get_meta, load_reference


@dataclass
class Machinery:
    mirror: Mirror  # the ledger loaded from the connection, and its writer
    configs: ConfigStore
    readvalidate: ReadValidate
    feedback: FeedbackJobs
    decider: Decider
    replayer: Replayer

    @property
    def ledger(self) -> Ledger:
        return self.mirror.ledger

    def close(self) -> None:
        self.readvalidate.close()
        self.feedback.close()


def machinery(
    settings: Settings,
    con,
    cfg: Config,
    journal: Journal | None,
    report: RunReport,
    *,
    feedback: bool = True,
    faults: Settings | None = None,
) -> Machinery:
    """`faults`: the settings whose fault points apply to the flushes (a live unit of work)."""
    mirror = Mirror(con, cfg.personal_fields, faults=faults)
    ledger = mirror.ledger
    configs = ConfigStore(settings, cfg)
    rv = ReadValidate(settings, report)
    jobs = FeedbackJobs(settings, report, cfg, enabled=feedback, ledger=ledger)
    decider = Decider(settings, ledger, journal, report, rv, jobs)
    replayer = Replayer(ledger, con, configs, rv, decider)
    return Machinery(mirror, configs, rv, jobs, decider, replayer)


def last_config(journal: Journal) -> dict | None:
    """The versions of the last `config` record of the journal."""
    last = None
    for rec in journal.read():
        if rec.get("type") == "config":
            last = {k: v for k, v in rec.items() if k not in ("seq", "type", "at")}
    return last


class UnitOfWork:
    def __init__(
        self,
        settings: Settings,
        cfg: Config,
        journal: Journal,
        report: RunReport,
        at: dt.datetime,
        *,
        feedback: bool = True,
        faults: bool = True,
    ):
        self.settings = settings
        self.cfg = cfg
        self.journal = journal
        self.report = report
        self.at = at
        self.feedback_enabled = feedback
        self.faults = faults  # fault points apply to this unit's flushes (not the degraded path)
        self.gen: Generation | None = None
        self.parts: Machinery | None = None

    @property
    def ledger(self) -> Ledger:
        return self.parts.ledger

    @property
    def mirror(self) -> Mirror:
        return self.parts.mirror

    @property
    def decider(self) -> Decider:
        return self.parts.decider

    @property
    def readvalidate(self) -> ReadValidate:
        return self.parts.readvalidate

    @property
    def feedback(self) -> FeedbackJobs:
        return self.parts.feedback

    def open(self, *, record: bool = True) -> list[dict[str, Any]]:
        """Open the new generation and replay the journal records it does not have yet; with
        `record`, journal the configuration in force and load its reference tables.
        → the replayed records (the backlog)."""
        s = self.settings
        self.gen = Generation(s)
        con = self.gen.open()
        self.parts = machinery(
            s,
            con,
            self.cfg,
            self.journal,
            self.report,
            feedback=self.feedback_enabled,
            faults=s if self.faults else None,
        )
        applied = int(get_meta(con, "journal_seq") or 0)
        backlog = list(self.journal.read(after=applied))
        last = last_config(self.journal)
        if last:
            self.parts.configs.latest = self.parts.configs.get(last)
        if backlog:
            t = time.perf_counter()
            self.report.recovered = self.parts.replayer.replay(backlog, self.cfg)
            self.report.time("reprise", time.perf_counter() - t)
        if get_meta(con, "review_migration") == "pending":
            self._journal_review_migration()
        if record:
            record_config(self.journal, s, self.cfg, last, self.at)
            load_reference(con, self.cfg.ref, self.cfg.registry, self.cfg.campaigns, self.at)
        return backlog

    def _journal_review_migration(self) -> None:
        """Migration 004 signed off the accepted contents of closed campaigns: journal it, so
        `ptce rebuild` reproduces it (and give them this unit's time, as a rebuild will)."""
        sids = sorted(
            sid for sid, sub in self.ledger.subs.items() if sub.get("reviewed_by") == MIGRATION_USER
        )
        seq = self.journal.next_seq()
        self.journal.add(
            {
                "type": "review_migration",
                "submissions": sids,
                "by": MIGRATION_USER,
                "at": self.at.isoformat(),
            }
        )
        self.ledger.review_migration(seq, sids, self.at)

    def flush(self) -> None:
        """Write the decisions taken so far into the generation (one transaction): everything
        journaled is applied."""
        self.ledger.last_seq = self.journal.next_seq() - 1
        self.mirror.flush()

    def commit(self) -> None:
        """Make the journal durable, then swap the new generation in."""
        self.ledger.last_seq = self.journal.next_seq() - 1
        if self.ledger.pending() or self.ledger.last_seq is not None:
            self.mirror.flush()
        self.journal.flush()
        with contextlib.suppress(OSError):  # mail never stops a run: mirrored at the next one
            mirror_outbox(self.gen.con, self.settings)
        fault_point(self.settings, "before_commit")
        self.gen.commit()
        self.close()
        fault_point(self.settings, "after_commit")
        write_applied(self.settings, self.journal.next_seq() - 1)

    def abort(self) -> None:
        """Drop the new generation (the live warehouse stays as it was), what was journaled
        but not made durable, and the readers."""
        self.journal.discard()
        if self.gen is not None:
            self.gen.abort()
        self.close()

    def close(self) -> None:
        if self.parts is not None:
            self.parts.close()
