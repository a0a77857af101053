"""Running one picklable top-level function on a pole's bytes in a child process, under the
readers' memory limit (RLIMIT_AS, `Limits.worker_memory_mb`) and time limit
(`Limits.parse_timeout_s`).

`ReaderPool` (in `sandbox`) is the many-files case for reading; `LimitedRunner` is the
one-call-at-a-time case for any other parse of untrusted bytes (the annotated copies): the
caller passes its own function, and gets back a `Limited` — the function's value, or which
limit it hit. A child that dies (an allocation refused inside a native library aborts the
process) or stays silent past the time limit is killed and replaced; the caller goes on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import limit_memory

MEMORY = "memoire"
TIME = "delai"
ERROR = "erreur"


@dataclass
class Limited:
    """What a limited call gave: its `value`, or the limit it `hit` (`memoire`, `delai`) or the
    error it raised (`erreur`, with `detail`)."""

    value: Any = None
    hit: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.hit is None


def _child_main(conn, limits: Limits) -> None:
    # Prefect's own environment, in this child process only: a child never talks to an API.
    os.environ.pop("PREFECT_API_URL", None)
    # what a native library prints as it fails (a refused allocation, a panic) is not for the
    # operator's terminal: the caller learns the limit hit from `Limited`
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    limit_memory(limits.worker_memory_mb)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, args = job
        try:
            reply = (None, fn(*args), "")
        except MemoryError:
            reply = (MEMORY, None, "")
        except Exception as exc:  # the function's own failure: the caller decides
            reply = (ERROR, None, f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send(reply)
        except MemoryError:
            conn.send((MEMORY, None, ""))


class LimitedRunner:
    """One child process at a time, reused from call to call (its imports are paid once),
    replaced when it dies or overruns. Use as a context manager, or `close()` it."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.ctx = mp.get_context("forkserver")
        self._proc = None
        self._conn = None

    def __enter__(self) -> LimitedRunner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_child_main, args=(child, self.limits), daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.join(2)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def call(self, fn: Callable[..., Any], *args: Any) -> Limited:
        """`fn(*args)` in the child. `fn` must be a top-level function and its arguments and
        value picklable."""
        if self._proc is None or not self._proc.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send((fn, args))
        except (OSError, ValueError):
            self._kill()
            return Limited(hit=MEMORY, detail="processus de traitement arrêté")
        deadline = time.monotonic() + self.limits.parse_timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill()
                return Limited(hit=TIME)
            if wait([self._conn], timeout=min(0.5, left)):
                try:
                    hit, value, detail = self._conn.recv()
                except (EOFError, OSError):
                    self._kill()  # died mid-call: an allocation refused in native code
                    return Limited(hit=MEMORY)
                if hit == MEMORY:
                    self._kill()  # a fresh process for the next call
                return Limited(value=value, hit=hit, detail=detail)
            if not self._proc.is_alive():
                self._kill()
                return Limited(hit=MEMORY)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.send(None)
            with contextlib.suppress(Exception):
                self._proc.join(1)
        self._kill()


def run_limited(limits: Limits, fn: Callable[..., Any], *args: Any) -> Limited:
    """One call in a fresh child process under `limits`."""
    with LimitedRunner(limits) as runner:
        return runner.call(fn, *args)
