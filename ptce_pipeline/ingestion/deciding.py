"""Deciding: which deliveries to read (`plan`), the decision on each through the ledger (the
single writer), journaled, and accounted into the run report — for new files and for
`reprocess`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue.context import Config, Versions, versions_dict
from ptce_pipeline.config import Settings
from ptce_pipeline.feedback import feedback_paths
from ptce_pipeline.ingestion.feedback_jobs import FeedbackJobs
from ptce_pipeline.ingestion.readvalidate import Pending, ReadValidate, recorded_previous
from ptce_pipeline.ingestion.report import FileLine, RunReport
from ptce_pipeline.store.journal import Journal, archived_path
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.records import Outcome, Result


@dataclass(frozen=True)
class Terms:
    """What the ledger needs besides the file to decide on it — the same for `decide` and
    `reprocess`, built once by `Decider.terms`."""

    versions: Versions
    at: dt.datetime
    late_fn: Callable
    feedback_paths: dict[str, str]
    previous_submission_id: int | None

    def kwargs(self) -> dict[str, Any]:
        return {
            "versions": self.versions,
            "at": self.at,
            "late_fn": self.late_fn,
            "feedback_paths": self.feedback_paths,
            "previous_submission_id": self.previous_submission_id,
        }


class Decider:
    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        journal: Journal | None,
        report: RunReport,
        readvalidate: ReadValidate,
        feedback: FeedbackJobs,
    ):
        self.settings = settings
        self.ledger = ledger
        self.journal = journal
        self.report = report
        self.readvalidate = readvalidate
        self.feedback = feedback

    def plan(self, cfg: Config, dids: list[int]) -> list[Pending]:
        """Which deliveries must be read and validated (each distinct content once)."""
        ledger = self.ledger
        pend: list[Pending] = []
        seen: set[tuple[str, str]] = set()
        for did in dids:
            d = ledger.get_delivery(did)
            key = (d["sha256"], d["inbox_folder"])
            sub = ledger.submission_for(*key)
            needs = key not in seen and ledger.needs_validation(
                d["sha256"], d["inbox_folder"], cfg.versions, cfg.registered(d["inbox_folder"])
            )
            if needs:
                seen.add(key)
            archived = Path(sub["archived_path"]) if sub else self.archived(d)
            pend.append(Pending(did, d["sha256"], d["inbox_folder"], archived, needs))
        return pend

    def archived(self, d: dict[str, Any]) -> Path:
        return archived_path(self.settings, d["sha256"], d["original_name"])

    def decide(
        self, cfg: Config, pend: list[Pending], results: dict[int, tuple], at: dt.datetime
    ) -> list[Outcome]:
        """Decide in delivery order and journal each decision (the single writer)."""
        out: list[Outcome] = []
        for p in pend:
            entry = results.get(p.did)
            if entry is not None and entry[1] is None:
                self.failure(p.did, entry[0].crashed or "lecture impossible", at)
                continue
            result = entry[1] if entry else None
            prev = entry[2] if entry else None
            outcome = self.decide_one(cfg, p.did, cfg.registered(p.folder), result, at, prev)
            if self.journal is not None:
                self.journal.add(
                    {
                        "type": "decision",
                        "delivery": p.did,
                        "at": at.isoformat(),
                        "versions": versions_dict(cfg.versions),
                        "previous_submission": prev,
                        "status": outcome.status,
                        "outcome": outcome.outcome,
                    }
                )
            out.append(outcome)
        return out

    def terms(
        self, cfg: Config, folder: str, name: str, at: dt.datetime, did: int, prev: int | None
    ) -> tuple[Terms, dict[str, Path]]:
        paths = feedback_paths(self.settings.pole_inbox(folder), name, at, did)
        rel = {k: str(v.relative_to(self.settings.home)) for k, v in paths.items()}
        return Terms(cfg.versions, at, cfg.campaigns.is_late, rel, prev), paths

    def decide_one(
        self,
        cfg: Config,
        did: int,
        registered: bool,
        result: Result | None,
        at: dt.datetime,
        prev: int | None,
    ) -> Outcome:
        d = self.ledger.get_delivery(did)
        terms, paths = self.terms(cfg, d["inbox_folder"] or "_", d["original_name"], at, did, prev)
        outcome = self.ledger.decide(did, registered=registered, result=result, **terms.kwargs())
        self._account(outcome, d, at, paths)
        return outcome

    def reprocess(
        self,
        cfg: Config,
        sid: int,
        at: dt.datetime,
        *,
        by: str,
        reason: str,
        seq: int,
        recorded: bool = False,
        previous_submission: int | None = None,
    ) -> tuple[Outcome | None, int | None]:
        """Read, validate and decide again on a submission → (outcome, the previous period's
        submission it was checked against); outcome None when reading failed because of us.
        `recorded`: a replay, checked against the journaled `previous_submission`; else
        against the snapshot."""
        rv = self.readvalidate
        sub = self.ledger.subs[sid]
        outcomes = rv.read(cfg, [rv.absolute(Path(sub["archived_path"]))])
        prev = recorded_previous(self.ledger, previous_submission) if recorded else None
        results, periods = rv.validate(cfg, outcomes, [sub["inbox_folder"]], at, previous=prev)
        if results[0] is None:
            self.failure(sid, outcomes[0].crashed or "lecture impossible", at)
            return None, None
        if not recorded:
            previous_submission = periods.submission_before(results[0].content)
        terms, paths = self.terms(
            cfg, sub["inbox_folder"], sub["original_name"], at, sid, previous_submission
        )
        outcome = self.ledger.reprocess(
            seq, sid, results[0], by=by, reason=reason, **terms.kwargs()
        )
        self._account(outcome, self.ledger.get_delivery(sid), at, paths)
        return outcome, previous_submission

    def failure(self, did: int, reason: str, at: dt.datetime) -> None:
        sub = self.ledger.failure(did, reason, at)
        if self.journal is not None:
            self.journal.add(
                {"type": "failure", "delivery": did, "at": at.isoformat(), "reason": reason[:500]}
            )
        d = self.ledger.get_delivery(did)
        self.report.failures.append(f"{d['inbox_folder']}/{d['original_name']} : {reason[:200]}")
        if sub is not None:
            self.report.count(sub["status"])

    def _account(
        self, outcome: Outcome, d: dict[str, Any], at: dt.datetime, paths: dict[str, Path]
    ) -> None:
        rep = self.report
        if outcome.outcome == "nouvelle":
            rep.new += 1
        elif outcome.outcome == "doublon":
            rep.duplicates += 1
        else:
            rep.unknown_sender += 1
        if outcome.outcome != "expediteur_inconnu" and (
            outcome.changed or outcome.outcome == "nouvelle"
        ):
            rep.count(outcome.status)
        errors = [i for i in outcome.issues if i.severity == I.ERREUR]
        first = f"{errors[0].located()} — {errors[0].message}" if errors else ""
        line = FileLine(
            outcome.folder,
            outcome.name,
            outcome.outcome,
            outcome.status,
            outcome.submission_id,
            first_problem=first[:300],
            other_errors=max(0, len(errors) - 1),
        )
        rep.files.append(line)
        sub = self.ledger.subs.get(outcome.submission_id) if outcome.submission_id else None
        self.feedback.add(outcome, d, sub, at, paths, line)
