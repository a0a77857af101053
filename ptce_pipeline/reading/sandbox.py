"""Parsing untrusted workbooks in worker processes under a memory limit and a time limit.

A hostile file costs one refused file (`too-large`, `too-slow`), never the run: workers run
with RLIMIT_AS, stream one result per file back to the parent, and the parent kills a worker
that stays silent past the time limit. When a worker dies, the file it was on is tried once
more alone in a fresh worker; if that one dies too, the file is refused. The other files of
its chunk go on in the other workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.config import Limits
from ptce_pipeline.errors import ConfigError

MIB = 1024 * 1024
MIN_EXPAT = (2, 4, 1)  # expat's own protection against billion laughs and quadratic blow-up


def check_xml_safety(environ=None) -> None:
    """Refuse to handle untrusted workbooks when XML could be parsed unguarded.

    openpyxl (used on pole workbooks for their annotated copies) guards against entity
    expansion only through defusedxml, and only when `OPENPYXL_DEFUSEDXML` is unset or "True"
    at import; our own ODS scan uses expat, whose amplification limits appeared in 2.4.1.
    The pre-flight refuses every DTD anyway: these are the second line.
    """
    # OPENPYXL_DEFUSEDXML is openpyxl's own variable, read by openpyxl from this process's
    # environment at import: the check reads the same place (not one of our settings).
    environ = os.environ if environ is None else environ
    problems = []
    flag = environ.get("OPENPYXL_DEFUSEDXML")
    if flag is not None and flag != "True":
        problems.append(f"la variable OPENPYXL_DEFUSEDXML={flag!r} désactive defusedxml")
    try:
        import openpyxl
        from openpyxl.xml import functions
    except ImportError:  # pragma: no cover - a hard dependency
        problems.append("openpyxl est introuvable")
    else:
        if not openpyxl.DEFUSEDXML:
            problems.append("openpyxl n'utilise pas defusedxml (paquet absent ou désactivé)")
        elif not functions.iterparse.__module__.startswith("defusedxml"):
            problems.append("openpyxl lit les feuilles sans defusedxml")
    import pyexpat

    version = pyexpat.version_info
    if tuple(version) < MIN_EXPAT:
        problems.append(
            "la bibliothèque expat {}.{}.{} est trop ancienne (2.4.1 au moins)".format(*version)
        )
    if problems:
        raise ConfigError(
            "Lecture des classeurs refusée : "
            + " ; ".join(problems)
            + ". Installez defusedxml (dépendance de ptce-pipeline) et retirez OPENPYXL_DEFUSEDXML."
        )


@dataclass
class ReadOutcome:
    format: str | None
    content: object | None  # extract.Content
    issues: list[I.Issue]
    crashed: str | None = None  # our own failure while reading (not the file's doing)


def read_one(data: bytes, ref, limits: Limits) -> ReadOutcome:
    """Sniff, pre-flight, parse and extract one workbook (in the current process)."""
    from ptce_pipeline.reading.extract import extract
    from ptce_pipeline.reading.workbook import read_raw

    raw, issues = read_raw(data, limits)
    if raw is None:
        return ReadOutcome(None, None, issues)
    content = extract(raw, ref)
    return ReadOutcome(raw.format, content, [])


# --------------------------------------------------------------------------------------------
# worker side
_WORKER_REF = None
_WORKER_LIMITS: Limits | None = None


def limit_memory(mb: int) -> None:
    """RLIMIT_AS of this process, in MiB (0: none)."""
    if mb <= 0:
        return
    try:
        import resource

        soft = mb * MIB
        resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on this platform
        pass


def _worker_main(
    conn, ref_bytes: bytes, ref_source: str, limits: Limits, fault: str | None
) -> None:
    from ptce_pipeline.catalogue import load_referentiel_bytes

    # Prefect's own environment, in this child process only: a worker never talks to an API.
    os.environ.pop("PREFECT_API_URL", None)
    ref = load_referentiel_bytes(ref_bytes, ref_source)
    limit_memory(limits.worker_memory_mb)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        for index, path in job:
            if fault and fault.startswith("hang:") and Path(path).name.startswith(fault[5:]):
                time.sleep(3600)
            try:
                data = Path(path).read_bytes()
                outcome = read_one(data, ref, limits)
            except MemoryError:
                outcome = ReadOutcome(
                    None, None, [I.make("too-large", detail="mémoire insuffisante")]
                )
            except Exception as exc:  # our own bug: not the file's fault
                outcome = ReadOutcome(None, None, [], crashed=f"{type(exc).__name__}: {exc}"[:300])
            try:
                conn.send((index, outcome))
            except MemoryError:
                conn.send(
                    (
                        index,
                        ReadOutcome(
                            None, None, [I.make("too-large", detail="mémoire insuffisante")]
                        ),
                    )
                )


class _Worker:
    def __init__(self, ctx, args):
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.proc.start()
        child.close()
        self.job: deque[tuple[int, str]] = deque()
        self.last = time.monotonic()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.join(2)
        with contextlib.suppress(Exception):
            self.conn.close()


class ReaderPool:
    """A small pool of reader processes. Use as a context manager."""

    def __init__(
        self,
        ref_bytes: bytes,
        ref_source: str,
        limits: Limits,
        workers: int = 2,
        fault: str | None = None,
    ):
        check_xml_safety()
        self.ctx = mp.get_context("forkserver")
        with contextlib.suppress(Exception):
            self.ctx.set_forkserver_preload(
                [
                    "ptce_pipeline.reading.extract",
                    "ptce_pipeline.reading.workbook",
                    "python_calamine",
                ]
            )
        self.args = (ref_bytes, ref_source, limits, fault)
        self.limits = limits
        self.size = max(1, workers)
        self.workers: list[_Worker] = []

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(Exception):
                w.conn.send(None)
        for w in self.workers:
            with contextlib.suppress(Exception):
                w.proc.join(1)
            w.kill()
        self.workers.clear()

    def _spawn(self) -> _Worker:
        w = _Worker(self.ctx, self.args)
        self.workers.append(w)
        return w

    def read(self, paths: list[str], *, chunk: int = 25, progress=None) -> list[ReadOutcome]:
        """Read every path; results in the same order."""
        results: list[ReadOutcome | None] = [None] * len(paths)
        queue: deque[list[tuple[int, str]]] = deque()
        items = list(enumerate(paths))
        per = max(1, min(chunk, -(-len(items) // self.size)))
        for start in range(0, len(items), per):
            queue.append(items[start : start + per])
        suspects: dict[int, int] = {}  # index → deaths
        while len(self.workers) < min(self.size, max(1, len(queue))):
            self._spawn()
        timeout = self.limits.parse_timeout_s
        done = 0
        while queue or any(w.job for w in self.workers):
            for w in self.workers:
                if not w.job and queue:
                    job = queue.popleft()
                    w.job = deque(job)
                    w.last = time.monotonic()
                    try:
                        w.conn.send(job)
                    except (OSError, ValueError):
                        queue.appendleft(job)
                        w.job.clear()
                        self._replace(w)
            busy = [w for w in self.workers if w.job]
            if not busy:
                continue
            ready = wait([w.conn for w in busy], timeout=0.5)
            now = time.monotonic()
            for w in busy:
                if w.conn in ready:
                    try:
                        index, outcome = w.conn.recv()
                    except (EOFError, OSError):
                        self._dead(w, queue, results, suspects, "died")
                        continue
                    results[index] = outcome
                    if w.job and w.job[0][0] == index:
                        w.job.popleft()
                    w.last = now
                    done += 1
                    if progress is not None:
                        progress(done, len(paths))
                elif not w.proc.is_alive():
                    self._dead(w, queue, results, suspects, "died")
                elif now - w.last > timeout:
                    self._dead(w, queue, results, suspects, "timeout")
        return [
            r if r is not None else ReadOutcome(None, None, [], crashed="lecture interrompue")
            for r in results
        ]

    def _replace(self, w: _Worker) -> None:
        w.kill()
        self.workers.remove(w)
        self._spawn()

    def _dead(self, w: _Worker, queue, results, suspects, why: str) -> None:
        """The worker died or hung on the first file of its job: that file is the suspect."""
        job = list(w.job)
        w.job.clear()
        self._replace(w)
        if not job:
            return
        (index, path), rest = job[0], job[1:]
        suspects[index] = suspects.get(index, 0) + 1
        if suspects[index] >= 2:
            if why == "timeout":
                issue = I.make("too-slow", seconds=int(self.limits.parse_timeout_s))
            else:
                issue = I.make(
                    "too-large",
                    detail=f"la lecture dépasse {self.limits.worker_memory_mb} Mo de mémoire",
                )
            results[index] = ReadOutcome(None, None, [issue])
        else:
            queue.appendleft([(index, path)])  # alone, in a fresh worker
        if rest:
            queue.append(rest)
