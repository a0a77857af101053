"""`run_ingest`: one ingestion run without an orchestrator — the same steps as the Prefect
flow, driven by `steps.drive`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ptce_pipeline.config import Settings
from ptce_pipeline.ingestion.ingest_run import IngestRun
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.ingestion.steps import PlainSteps, drive


def run_ingest(
    settings: Settings,
    *,
    settle: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunReport:
    """Ingest everything new in the inbox, without Prefect. The caller holds the lock."""
    run = IngestRun(settings, settle=settle, progress=progress, now=now)
    with PlainSteps(run) as steps:
        drive(run, steps)
    return run.finish()


__all__ = ["run_ingest"]
