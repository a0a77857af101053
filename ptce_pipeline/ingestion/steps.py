"""The list of ingestion steps and their control flow, written once: the orchestrator-free
runner (`run_ingest`) and the Prefect flow (`flows/ingest.py`) drive the same `IngestRun`
through it, each with its own way of calling a step.

discover → open → claim (+ claim again what was momentarily unreadable) → plan → for each
chunk: read and validate chunk k+1 (submitted) while chunk k is loaded → commit → snapshot.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from typing import Any, Protocol

from ptce_pipeline.errors import PtceError, describe_error
from ptce_pipeline.ingestion.ingest_run import IngestRun

LOOKS_AGAIN = 3  # at most this many more looks at the inbox before a run commits
UNCLAIMED = "fichier momentanément illisible, repris au prochain passage"


class Steps(Protocol):
    """How an orchestrator runs the step `name` of the run (an `IngestRun` method)."""

    def call(self, name: str, *args: Any) -> Any: ...

    def submit(self, name: str, *args: Any) -> Any:  # → a future with `.result()`
        ...


def drive(run: IngestRun, steps: Steps) -> None:
    """Run the steps; our own failure during the load takes the degraded path
    (`run.fail`), a `PtceError` (cannot continue) drops the new generation and is raised."""
    if not steps.call("discover"):
        return
    reading = None
    try:
        steps.call("open")
        failed = steps.call("claim")
        if failed:
            still = steps.call("claim_again", failed)
            if still:
                run.unclaimed(still, UNCLAIMED)
        chunks = steps.call("plan")
        if chunks:
            # read and validate chunk k+1 while chunk k is loaded: both cores stay busy
            reading = steps.submit("read_validate", chunks[0])
            for k, chunk in enumerate(chunks):
                results = reading.result()
                reading = None
                if k + 1 < len(chunks):
                    reading = steps.submit("read_validate", chunks[k + 1])
                steps.call("load", chunk, results)
        # what arrived while this run read and loaded (an upload through the portal) joins it
        for _ in range(LOOKS_AGAIN):
            if not steps.call("look_again"):
                break
            for chunk in steps.call("plan_more"):
                steps.call("load", chunk, steps.call("read_validate", chunk))
        steps.call("commit")
    except PtceError:
        _settle(reading)
        run.abort()
        raise
    except Exception as exc:
        _settle(reading)
        run.fail(exc)
        return
    try:
        steps.call("snapshot")
    except Exception as exc:
        run.report.errors.append("instantané des analystes non rafraîchi : " + describe_error(exc))


def _settle(reading) -> None:
    """Let a read still under way finish before the readers are closed."""
    if reading is not None:
        with contextlib.suppress(Exception):
            reading.result()


class PlainSteps:
    """Without an orchestrator: a step is a method call; reading chunk k+1 runs in a thread
    while chunk k is loaded."""

    def __init__(self, run: IngestRun):
        self.run = run
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def call(self, name: str, *args: Any) -> Any:
        return getattr(self.run, name)(*args)

    def submit(self, name: str, *args: Any) -> concurrent.futures.Future:
        return self._pool.submit(getattr(self.run, name), *args)

    def __enter__(self) -> PlainSteps:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)
