"""Running the flows from the CLI: Prefect's environment first, then the flow run, quietly."""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

from ptce_pipeline.config import Settings
from ptce_pipeline.errors import PtceError, WarehouseBusy
from ptce_pipeline.orchestration.prefect_env import prefect_api


class Progress:
    """French progress on stderr: one updating line on a terminal, a few lines otherwise."""

    def __init__(self, label: str = "Lecture et validation", stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self.last > 0.1 or done == total:
                self.stream.write(f"\r{self.label} : {done}/{total} classeurs")
                if done == total:
                    self.stream.write("\n")
                self.stream.flush()
                self.last = now
        else:
            step = max(1, total // 5)
            if done == total or done // step != self.shown:
                self.shown = done // step
                self.stream.write(f"{self.label} : {done}/{total} classeurs\n")
                self.stream.flush()


def _flow(name: str):
    from ptce_pipeline.flows import ingest as ingest_flows

    if name == "ingest":
        return ingest_flows.ingest_inbox
    if name == "publish":
        from ptce_pipeline.flows.publish import publish_national_tables

        return publish_national_tables
    if name == "run":
        from ptce_pipeline.flows.run import run_pipeline

        return run_pipeline
    if name == "remind":
        from ptce_pipeline.flows.remind import remind_poles

        return remind_poles
    raise ValueError(name)  # pragma: no cover


def run_flow(settings: Settings, name: str, **params: Any) -> tuple[Any, bool]:
    """Run one of our flows (`ingest`, `publish`, `run`) → (its returned data, failed?).

    Raises PtceError when the flow could not run (busy warehouse, corrupt warehouse,
    configuration); any other exception is a bug of ours."""
    with prefect_api(settings), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ptce_pipeline.flows import ingest as ingest_flows

        ingest_flows.PROGRESS["callback"] = Progress()
        try:
            state = _flow(name)(home=str(settings.home), **params, return_state=True)
        finally:
            ingest_flows.PROGRESS["callback"] = None
        if state.is_cancelled():
            raise WarehouseBusy(state.message or "Une autre exécution tient déjà l'entrepôt.")
        try:
            data = state.result(raise_on_failure=False)
        except Exception as exc:  # the state carries no data: our own failure
            data = exc
    if isinstance(data, BaseException):
        if isinstance(data, PtceError):
            raise data
        raise RuntimeError(f"{type(data).__name__} : {data}") from data
    return data, state.is_failed()
