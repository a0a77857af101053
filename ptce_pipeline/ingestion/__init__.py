"""One ingestion run and everything that changes the warehouse, orchestrator-agnostic.

- `steps.drive`: the one list of steps of a run (discover, open, claim, plan, read and
  validate chunk k+1 while chunk k loads, commit, snapshot), driven without Prefect by
  `run.run_ingest` and, each step a task, by the flow `ingest-inbox`;
- `ingest_run.IngestRun`: the steps themselves; `inbox`: the inbox scan;
- `unit.UnitOfWork`: the one unit of work of a run, a correction and the degraded path
  (`rebuild` assembles the same machinery on a new file);
- `readvalidate`: the one read-and-validate (worker processes, then `validate_batch`), also
  used by `ptce check` (`check`); `deciding`, `replay`, `feedback_jobs`, `degraded`: the
  objects of the unit of work, one job each;
- `corrections`: withdraw, reprocess, close/reopen a campaign, rebuild; `report`: the run
  report (terminal, `--json`, Prefect artifact).

Public face: `run_ingest`, loaded on first use: `idle` (is there anything to do?) is imported
without the machinery of a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ptce_pipeline.ingestion.run import run_ingest

__all__ = ["run_ingest"]


def __getattr__(name: str):
    if name == "run_ingest":
        from ptce_pipeline.ingestion.run import run_ingest

        return run_ingest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
