"""The degraded path of a run whose load failed through our own fault: the live warehouse
stays as it was, and the files claimed by the run are recorded `en_attente` with the reason
(`en_erreur` after the third failed run), so that the next run tries them again."""

from __future__ import annotations

import datetime as dt

from ptce_pipeline.catalogue.context import Config
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import describe_error
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.ingestion.unit import UnitOfWork
from ptce_pipeline.store.health import write_applied
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.snapshot import publish_snapshot


def record_waiting(
    settings: Settings,
    cfg: Config,
    journal: Journal,
    new_records: list[dict],
    report: RunReport,
    at: dt.datetime,
    *,
    retried: list[int] = (),
) -> None:
    """Record the deliveries (and the earlier failures tried again) as en_attente with the
    reason, if the disk allows; otherwise the journal alone keeps them (the next run catches
    up)."""
    if not new_records and not retried:
        return
    reason = report.errors[-1] if report.errors else "échec du chargement"
    journal.discard()
    unit = UnitOfWork(settings, cfg, journal, RunReport(), at, feedback=False, faults=False)
    try:
        # everything journaled stays true: decisions of chunks flushed before the failure and
        # records caught up from an earlier run are applied, as `rebuild` would apply them
        try:
            backlog = unit.open(record=False)
        finally:
            unit.close()
        ledger = unit.ledger
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
        unit.mirror.flush()
        unit.gen.commit()
        write_applied(settings, journal.next_seq() - 1)
        publish_snapshot(settings)
    except Exception as exc:  # the disk is still full: the journal keeps everything
        if unit.gen is not None:
            unit.gen.abort()
        report.errors.append("état « en attente » non enregistré : " + describe_error(exc))
