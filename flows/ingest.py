"""`ingest-inbox`: discover → claim → read and validate in parallel → load through one writer
→ feedback → refresh the analysts' snapshot → run report (a Prefect Markdown artifact).

Tasks work on chunks of files, never on one file (a task costs ≈ 20 ms of orchestration):
chunk k+1 is read and validated (reader worker processes) while chunk k is loaded.
"""

from __future__ import annotations

import errno
from typing import ClassVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Cancelled, Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from ptce_pipeline.catalogue import display
from ptce_pipeline.config import load_settings
from ptce_pipeline.errors import WarehouseBusy
from ptce_pipeline.ingestion.ingest_run import IngestRun
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.ingestion.steps import drive
from ptce_pipeline.mail import MailReport, queue_run_mail, send_queued
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.lock import warehouse_lock

ARTIFACT_KEY = "ptce-ingestion"

# Progress callback installed by the CLI (same process); scheduled runs have none.
PROGRESS = {"callback": None}


def _transient(task, task_run, state) -> bool:
    """Retry only what is transient (a file held by another program, a momentary I/O error);
    not a full disk (it does not clear in seconds), never invalid data (refused once, with
    its report: it never raises)."""
    try:
        state.result()
    except OSError as exc:
        return exc.errno not in (errno.ENOSPC, errno.EDQUOT)
    except Exception:
        return False
    return False


@task(name="découvrir", cache_policy=NO_CACHE)
def discover(run: IngestRun) -> bool:
    return run.discover()


@task(name="ouvrir l'entrepôt", cache_policy=NO_CACHE)
def open_generation(run: IngestRun) -> None:
    run.open()


@task(name="archiver", cache_policy=NO_CACHE)
def claim(run: IngestRun) -> list:
    return run.claim()


@task(
    name="réessayer un fichier",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[1, 3, 9],
    retry_jitter_factor=0.2,
    retry_condition_fn=_transient,
)
def claim_again(run: IngestRun, candidates: list) -> None:
    """The files that could not be read at claim time, again, with backoff (one task for all)."""
    failed = run.claim_again(candidates)
    if failed:
        candidates[:] = failed
        raise OSError(f"encore illisible(s) : {', '.join(c.name for c in failed)}")


@task(name="lire et valider", cache_policy=NO_CACHE)
def read_validate(run: IngestRun, chunk: list) -> dict:
    return run.read_validate(chunk)


@task(name="charger", cache_policy=NO_CACHE)
def load(run: IngestRun, chunk: list, results: dict) -> None:
    run.load(chunk, results)


@task(name="valider la génération", cache_policy=NO_CACHE)
def commit(run: IngestRun) -> None:
    run.commit()


@task(
    name="instantané des analystes",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=_transient,
)
def snapshot(run: IngestRun) -> None:
    run.snapshot()


class TaskSteps:
    """Each step of `steps.drive` as its task. Arguments are wrapped in `quote`: Prefect would
    otherwise walk the whole run state (thousands of submissions and workbook contents)
    looking for futures, at every task call. `plan` is a plain call."""

    TASKS: ClassVar[dict] = {
        "discover": discover,
        "open": open_generation,
        "claim": claim,
        "read_validate": read_validate,
        "load": load,
        "commit": commit,
        "snapshot": snapshot,
    }

    def __init__(self, run: IngestRun):
        self.run = run

    def call(self, name: str, *args):
        if name == "claim_again":
            left = list(args[0])
            state = claim_again(quote(self.run), quote(left), return_state=True)
            return left if state.is_failed() else []
        task_ = self.TASKS.get(name)
        if task_ is None:
            return getattr(self.run, name)(*args)
        return task_(quote(self.run), *map(quote, args))

    def submit(self, name: str, *args):
        return self.TASKS[name].submit(quote(self.run), *map(quote, args))


@task(name="préparer les courriels", cache_policy=NO_CACHE)
def queue_mail(settings, start_seq: int | None, decided: bool) -> MailReport:
    """Still under the lock: the run's e-mails into the outbox (local, no network)."""
    try:
        return queue_run_mail(settings, start_seq=start_seq, decided=decided)
    except Exception as exc:  # a bug of ours in mail must not cost the run its report
        return _mail_failed(exc)


@task(name="envoyer les courriels", cache_policy=NO_CACHE)
def send_mail(settings, report: MailReport) -> list[str]:
    """After the lock is released: everything pending in the outbox (never fails the run)."""
    try:
        return send_queued(settings, report).lines
    except Exception as exc:
        return report.lines + _mail_failed(exc).lines


def _mail_failed(exc: BaseException) -> MailReport:
    get_run_logger().warning("courriels : %s", display.terminal(exc))
    line = (
        f"Courriels : incident ({display.terminal(exc)[:200]}) ; nouvel essai au prochain passage."
    )
    return MailReport(lines=[line], problem=line)


def finish(report: RunReport):
    data = report.to_dict()
    try:
        create_markdown_artifact(
            markdown=report.markdown(),
            key=ARTIFACT_KEY,
            description="Rapport d'ingestion ptce-pipeline",
        )
    except Exception as exc:  # the report must never fail the run
        get_run_logger().warning("artefact non créé : %s", display.terminal(exc))
    if report.failures or report.errors:
        # the state message reaches Prefect's logs and terminal: file names shown, never obeyed
        message = display.terminal("; ".join((report.failures + report.errors)[:3]))[:500]
        return Failed(message=message, data=data)
    return Completed(message="toutes les décisions sont prises", data=data)


def busy(exc: WarehouseBusy):
    """The run that loses the warehouse lock: one French line, state Cancelled, nothing done."""
    get_run_logger().warning("%s", exc)
    return Cancelled(message=str(exc), data={"busy": str(exc)})


@flow(name="ingest-inbox", log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=2))
def ingest_inbox(home: str | None = None, settle: float | None = None):
    settings = load_settings(home=home, settle=settle)
    start_seq = Journal(settings).tail_seq()
    try:
        with warehouse_lock(settings.lock_path, what="flux ingest-inbox", now=settings.clock()):
            run = IngestRun(settings, progress=PROGRESS["callback"])
            drive(run, TaskSteps(run))
            report = run.finish()
            mail = queue_mail(quote(settings), start_seq, report.new > 0)
    except WarehouseBusy as exc:
        return busy(exc)
    # sent once the warehouse is free again: a slow server never holds the lock
    report.mail = send_mail(quote(settings), quote(mail))
    return finish(report)
