"""Running the flows from the CLI: Prefect's environment first, then the flow run, quietly."""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

from .config import Settings
from .prefect_env import configure


class Progress:
    """French progress on stderr: one updating line on a terminal, a few lines otherwise."""

    def __init__(self, label: str = "Lecture et validation"):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self.last > 0.1 or done == total:
                sys.stderr.write(f"\r{self.label} : {done}/{total} classeurs")
                if done == total:
                    sys.stderr.write("\n")
                sys.stderr.flush()
                self.last = now
        else:
            step = max(1, total // 5)
            if done == total or done // step != self.shown:
                self.shown = done // step
                sys.stderr.write(f"{self.label} : {done}/{total} classeurs\n")
                sys.stderr.flush()


def _quiet() -> None:
    warnings.filterwarnings("ignore")


def run_flow(settings: Settings, name: str, **params: Any) -> tuple[Any, bool]:
    """Run one of our flows → (its returned data, failed?)."""
    configure(settings)
    _quiet()
    from .flows import ingest as ingest_flows

    ingest_flows.PROGRESS["callback"] = Progress()
    if name == "ingest":
        flow = ingest_flows.ingest_inbox
    elif name == "publish":
        from .flows.publish import publish_national_tables as flow
    elif name == "run":
        from .flows.run import run_pipeline as flow
    else:  # pragma: no cover
        raise ValueError(name)
    params = {"home": str(settings.home), **params}
    state = flow(**params, return_state=True)
    try:
        data = state.result(raise_on_failure=False)
    except Exception as exc:  # the state carries no data: our own failure
        data = exc
    if isinstance(data, BaseException):
        from .errors import PtceError

        if isinstance(data, PtceError):
            raise data
        raise RuntimeError(f"{type(data).__name__} : {data}") from data
    return data, state.is_failed()
