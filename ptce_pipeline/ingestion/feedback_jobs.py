"""The poles' feedback files of a run (receipt, annotated copy): built with each decision,
written once the decisions are durable in the journal.

A live run holds them (`hold()`) until its chunk's decisions are journaled, then `write()`s
them: a crash can never leave a receipt for a decision the next run would take again under
another name. Replays write them at once (the decisions are already journaled); `rebuild`
and the degraded path write none.

The annotated copy is built in a child process under the readers' limits (`feedback.copies`,
one child reused for the whole run and closed with it): a limit hit skips the copy, the
receipt says so, and the run goes on."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue import Config, Contact
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import describe_error
from ptce_pipeline.faults import fault_point
from ptce_pipeline.feedback import annotated_copy, receipt_html, write_feedback
from ptce_pipeline.fsafe import UnsafePath
from ptce_pipeline.ingestion.report import FileLine, RunReport
from ptce_pipeline.reading.limited import LimitedRunner
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.records import ACCEPTED, Note, Outcome, as_datetime_or_none
from ptce_pipeline.store.records import as_datetime as _ts


class FeedbackJobs:
    """`cfg`: the configuration of the run, whose registry names the poles and whose contact
    details (the home's contact.toml as read now) every receipt gives."""

    def __init__(
        self,
        settings: Settings,
        report: RunReport,
        cfg: Config,
        *,
        enabled: bool = True,
        ledger: Ledger | None = None,
    ):
        self.settings = settings
        self.report = report
        self.enabled = enabled
        self.ledger = ledger  # what is in force when the receipt is written (`stated`)
        self.poles = cfg.registry.poles
        self.contact = cfg.contact or Contact(organisation=cfg.ref.contact)
        self._held: list[Callable[[], None]] | None = None
        self._runner: LimitedRunner | None = None

    def _annotator(self) -> LimitedRunner:
        if self._runner is None:
            self._runner = LimitedRunner(self.settings.limits)
        return self._runner

    def close(self) -> None:
        """Stop the annotating child process, if one was started."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def hold(self) -> None:
        """From now on, queue the files until `write()`."""
        self._held = []

    def add(
        self,
        outcome: Outcome,
        delivery: dict[str, Any],
        sub: dict[str, Any] | None,
        at: dt.datetime,
        paths: dict[str, Path],
        line: FileLine,
    ) -> None:
        """The feedback of one decision (if it needs one); `line` learns where it went."""
        if not (
            self.enabled and outcome.needs_feedback and outcome.outcome != "expediteur_inconnu"
        ):
            return
        if sub is None:
            return
        home = self.settings.home
        archived = Path(sub["archived_path"])
        archived = archived if archived.is_absolute() else home / archived
        annotatable = bool(outcome.issues and sub["file_format"])
        file_format = sub["file_format"]
        late = bool(sub.get("late"))
        period = sub.get("period")
        pole = self.poles.get(outcome.folder)
        contact = self.contact
        received_at = _ts(delivery["received_at"])
        sha256 = delivery["sha256"]
        rep = self.report

        def job() -> None:
            fault_point(self.settings, "during_feedback")
            t = time.perf_counter()
            copy = (
                annotated_copy(self._annotator(), archived, file_format, outcome.issues)
                if annotatable and archived.exists()
                else None
            )

            status, note = self.stated(outcome, sub)

            def html_text(annotated_name: str | None) -> str:
                return receipt_html(
                    pole_id=outcome.folder,
                    pole_name=pole.nom if pole else None,
                    period=period,
                    original_name=outcome.name,
                    sha256=sha256,
                    received_at=received_at,
                    decided_at=at,
                    status=status,
                    outcome=outcome.outcome,
                    note=note,
                    issues=outcome.issues,
                    submission_id=outcome.submission_id,
                    annotated_name=annotated_name,
                    late=late,
                    annotated_skipped=copy.skipped if copy else None,
                    contact=contact,
                )

            try:
                written = write_feedback(
                    folder_path=self.settings.pole_inbox(outcome.folder),
                    paths=paths,
                    annotated=copy.data if copy else None,
                    receipt=html_text,
                )
            except UnsafePath as exc:  # a link or a file where `retours` should be
                rep.errors.append(
                    f"retour au pôle {outcome.folder} non écrit pour {outcome.name} : {exc} "
                    "(la décision est enregistrée ; remettez un vrai dossier, puis "
                    "`ptce reprocess` le réécrira)"
                )
                return
            except OSError as exc:  # a full disk, a folder not writable…: this pole only
                rep.errors.append(
                    f"retour au pôle {outcome.folder} non écrit pour {outcome.name} "
                    f"(`ptce reprocess` le réécrira) : {describe_error(exc)}"
                )
                return
            rep.time("retours", time.perf_counter() - t)
            line.receipt = str(written["receipt"].relative_to(home)) if written["receipt"] else None
            line.annotated = (
                str(written["annotated"].relative_to(home)) if written["annotated"] else None
            )

        if self._held is not None:
            self._held.append(job)
        else:
            job()

    def stated(self, outcome: Outcome, sub: dict[str, Any]) -> tuple[str | None, Note | None]:
        """The status and note a receipt states: the decision's, unless a file decided after
        it in the same chunk (dropped later by the pole) has replaced this version before the
        receipt is written — then it says so, and which file is in force, rather than « rien
        ne change » or « vos données sont intégrées »."""
        if outcome.status not in ACCEPTED or sub["status"] != "remplacee" or self.ledger is None:
            return outcome.status, outcome.note
        by = self.ledger.current.get((sub["pole_id"], sub["period"]))
        if by is None:
            return outcome.status, outcome.note
        params = {
            "by": by,
            "by_received": as_datetime_or_none(self.ledger.subs[by]["last_received_at"]),
        }
        if outcome.outcome == "doublon":
            params["received"] = as_datetime_or_none(sub["received_at"])
            return "remplacee", Note("already-received-replaced", params)
        return "remplacee", Note("replaced-since", params)

    def write(self) -> None:
        """Write the held files. A file that cannot be written (full disk) is reported; the
        decision stands (it is journaled) and the run goes on."""
        jobs, self._held = self._held or [], []
        for job in jobs:
            try:
                job()
            except OSError as exc:
                self.report.errors.append(
                    "retour au pôle non écrit (`ptce reprocess` le réécrira) : "
                    + describe_error(exc)
                )
