"""Reading, validating and deciding: the shared step of a live run, of the catch-up after an
interrupted run, of `reprocess` and of `rebuild`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue.context import Config, versions_dict, versions_from
from ptce_pipeline.config import Settings
from ptce_pipeline.content.model import Content
from ptce_pipeline.errors import describe_error
from ptce_pipeline.faults import fault_point
from ptce_pipeline.feedback import feedback_paths, receipt_html, write_feedback
from ptce_pipeline.ingestion.report import FileLine, RunReport
from ptce_pipeline.reading.sandbox import ReaderPool, ReadOutcome
from ptce_pipeline.store.configs import ConfigStore
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.mirror import Mirror
from ptce_pipeline.store.records import Outcome, Result
from ptce_pipeline.store.records import as_datetime as _ts
from ptce_pipeline.validation.batch import Context, Item, validate_batch


@dataclass
class Pending:
    did: int
    sha256: str
    folder: str
    archived: Path
    needs: bool  # must be read and validated


class Processor:
    def __init__(
        self,
        settings: Settings,
        mirror: Mirror,
        journal: Journal | None,
        store: ConfigStore,
        report: RunReport,
        *,
        feedback: bool = True,
        previous: str = "snapshot",
        progress: Callable[[int, int], None] | None = None,
    ):
        self.settings = settings
        self.mirror = mirror
        self.ledger = mirror.ledger
        self.journal = journal
        self.store = store
        self.report = report
        self.feedback = feedback
        self.previous_mode = previous
        self.progress = progress
        self._pool: ReaderPool | None = None
        self._pool_ref: str | None = None
        # When a list, feedback files are queued here and written by `write_feedback_jobs()`
        # once the decisions are durable in the journal (a live run); else written at once
        # (replays: the decisions are already journaled). A crash can then never leave a
        # receipt for a decision the next run would take again under another name.
        self.feedback_jobs: list[Callable[[], None]] | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # -- reading --------------------------------------------------------------------------------
    def pool(self, cfg: Config) -> ReaderPool:
        if self._pool is None or self._pool_ref != cfg.ref.sha256:
            self.close()
            self._pool = ReaderPool(
                cfg.ref_bytes,
                cfg.ref.source,
                self.settings.limits,
                self.settings.workers,
                fault=self.settings.fault,
            )
            self._pool_ref = cfg.ref.sha256
        return self._pool

    def read(self, cfg: Config, paths: list[Path]) -> list[ReadOutcome]:
        if not paths:
            return []
        t = time.perf_counter()
        outcomes = self.pool(cfg).read(
            [str(p) for p in paths],
            chunk=max(5, self.settings.chunk_size // 8),
            progress=self.progress,
        )
        self.report.time("lecture", time.perf_counter() - t)
        return outcomes

    # -- previous period values (cross-period checks) -------------------------------------------
    def previous_lookup(
        self, contents: list[Content]
    ) -> Callable[[str, int], tuple[int, dict[str, float]] | None]:
        wanted: set[tuple[str, int]] = set()
        for c in contents:
            pole = c.identity.get("pole_id")
            period = c.identity.get("periode")
            if (
                pole is not None
                and period is not None
                and isinstance(period.value, int)
                and isinstance(pole.value, str)
            ):
                wanted.add((pole.value, period.value - 1))
        found: dict[tuple[str, int], tuple[int, int, dict[str, float]]] = {}
        if wanted and self.previous_mode == "snapshot" and self.settings.snapshot_db.exists():
            from ptce_pipeline.store.warehouse import connect

            try:
                con = connect(self.settings.snapshot_db, read_only=True)
            except Exception:
                con = None
            if con is not None:
                try:
                    poles = sorted({p for p, _ in wanted})
                    rows = con.execute(
                        "SELECT pole_id, period, submission_id, indicator_code, value FROM current_indicator_values "
                        "WHERE pole_id IN (SELECT unnest(?)) AND value IS NOT NULL",
                        [poles],
                    ).fetchall()
                except Exception:
                    rows = []
                finally:
                    con.close()
                for pole, period, sid, code, value in rows:
                    if (pole, period) in wanted:
                        entry = found.setdefault((pole, period), (sid, period, {}))
                        entry[2][code] = value
        self._prev_ids = {k: v[0] for k, v in found.items()}

        def lookup(pole: str, period: int):
            entry = found.get((pole, period - 1))
            return None if entry is None else (entry[1], entry[2])

        return lookup

    def recorded_previous(
        self, sid: int | None
    ) -> Callable[[str, int], tuple[int, dict[str, float]] | None]:
        if sid is None:
            return lambda pole, period: None
        values, period = self.ledger.indicator_values_of(sid)

        def lookup(pole: str, p: int):
            return (period, values) if values else None

        return lookup

    # -- validation -----------------------------------------------------------------------------
    def validate(
        self,
        cfg: Config,
        outcomes: list[ReadOutcome],
        folders: list[str],
        at: dt.datetime,
        previous=None,
    ) -> list[Result | None]:
        """→ a Result per outcome, or None when reading failed because of us."""
        t = time.perf_counter()
        items, where = [], []
        results: list[Result | None] = [None] * len(outcomes)
        for k, (o, folder) in enumerate(zip(outcomes, folders, strict=True)):
            if o.crashed:
                continue
            if o.content is None:
                results[k] = Result(issues=list(o.issues), content=None, file_format=o.format)
                continue
            items.append(Item(o.content, folder))
            where.append(k)
        if items:
            if previous is None:
                previous = self.previous_lookup([it.content for it in items])
            ctx = Context(
                ref=cfg.ref,
                registry=cfg.registry,
                campaigns=cfg.campaigns,
                today=at.astimezone(dt.UTC).date(),
                previous=previous,
            )
            issue_lists = validate_batch(items, ctx)
            for k, issues, item in zip(where, issue_lists, items, strict=True):
                results[k] = Result(
                    issues=issues, content=item.content, file_format=outcomes[k].format
                )
        self.report.time("validation", time.perf_counter() - t)
        return results

    # -- deciding -------------------------------------------------------------------------------
    def plan(self, cfg: Config, dids: list[int]) -> list[Pending]:
        """Which deliveries must be read and validated (each distinct content once)."""
        ledger = self.ledger
        versions = cfg.versions
        pend: list[Pending] = []
        seen: set[tuple[str, str]] = set()
        for did in dids:
            d = ledger.get_delivery(did)
            key = (d["sha256"], d["inbox_folder"])
            sub = ledger.submission_for(*key)
            needs = key not in seen and ledger.needs_validation(
                d["sha256"], d["inbox_folder"], versions, cfg.registered(d["inbox_folder"])
            )
            if needs:
                seen.add(key)
            archived = Path(sub["archived_path"]) if sub else self._archived(d)
            pend.append(Pending(did, d["sha256"], d["inbox_folder"], archived, needs))
        return pend

    def read_validate(self, cfg: Config, pend: list[Pending], at: dt.datetime) -> dict[int, tuple]:
        """Read (worker processes) and validate (one frame per sheet) → did → (outcome, result, prev)."""
        to_read = [p for p in pend if p.needs]
        if not to_read:
            return {}
        outcomes = self.read(cfg, [self._abs(p.archived) for p in to_read])
        results = self.validate(cfg, outcomes, [p.folder for p in to_read], at)
        prev_ids = getattr(self, "_prev_ids", {})
        out = {}
        for p, o, r in zip(to_read, outcomes, results, strict=True):
            prev = None
            if r is not None and r.content is not None:
                pole = r.content.identity.get("pole_id")
                period = r.content.identity.get("periode")
                if pole is not None and period is not None and isinstance(period.value, int):
                    prev = prev_ids.get((pole.value, period.value - 1))
            out[p.did] = (o, r, prev)
        return out

    def decide(
        self, cfg: Config, pend: list[Pending], results: dict[int, tuple], at: dt.datetime
    ) -> list[Outcome]:
        """Decide in delivery order and journal each decision (the single writer)."""
        versions = cfg.versions
        out: list[Outcome] = []
        for p in pend:
            registered = cfg.registered(p.folder)
            entry = results.get(p.did)
            if entry is not None and entry[1] is None:
                self._failure(p.did, entry[0].crashed or "lecture impossible", at)
                continue
            result = entry[1] if entry else None
            prev = entry[2] if entry else None
            outcome = self._decide(cfg, p.did, registered, result, at, prev)
            if self.journal is not None:
                self.journal.add(
                    {
                        "type": "decision",
                        "delivery": p.did,
                        "at": at.isoformat(),
                        "versions": versions_dict(versions),
                        "previous_submission": prev,
                        "status": outcome.status,
                        "outcome": outcome.outcome,
                    }
                )
            out.append(outcome)
        return out

    def decide_new(self, cfg: Config, dids: list[int], at: dt.datetime) -> list[Outcome]:
        pend = self.plan(cfg, dids)
        return self.decide(cfg, pend, self.read_validate(cfg, pend, at), at)

    def _archived(self, d: dict[str, Any]) -> Path:
        from ptce_pipeline.store.journal import archived_path

        return archived_path(self.settings, d["sha256"], d["original_name"])

    def _abs(self, p: Path) -> Path:
        return p if p.is_absolute() else self.settings.home / p

    def _decide(
        self,
        cfg: Config,
        did: int,
        registered: bool,
        result: Result | None,
        at: dt.datetime,
        prev: int | None,
    ) -> Outcome:
        d = self.ledger.get_delivery(did)
        paths = feedback_paths(
            self.settings.pole_inbox(d["inbox_folder"] or "_"), d["original_name"], at, did
        )
        rel = {k: str(v.relative_to(self.settings.home)) for k, v in paths.items()}
        outcome = self.ledger.decide(
            did,
            registered=registered,
            result=result,
            versions=cfg.versions,
            at=at,
            late_fn=cfg.campaigns.is_late,
            feedback_paths=rel,
            previous_submission_id=prev,
        )
        self._account(outcome, d, at, cfg, paths, result)
        return outcome

    def _failure(self, did: int, reason: str, at: dt.datetime) -> None:
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
        self, outcome: Outcome, d, at, cfg: Config, paths: dict[str, Path], result: Result | None
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
        first = next(
            (f"{i.located()} — {i.message}" for i in outcome.issues if i.severity == I.ERREUR), ""
        )
        line = FileLine(
            outcome.folder,
            outcome.name,
            outcome.outcome,
            outcome.status,
            outcome.submission_id,
            first_problem=first[:300],
        )
        rep.files.append(line)
        if not (
            self.feedback and outcome.needs_feedback and outcome.outcome != "expediteur_inconnu"
        ):
            return
        sub = self.ledger.subs.get(outcome.submission_id) if outcome.submission_id else None
        if sub is None:
            return
        archived = self._abs(Path(sub["archived_path"]))
        annotatable = bool(outcome.issues and sub["file_format"]) and _small(archived)
        annotated_name = paths["annotated"].name if annotatable else None
        html_text = receipt_html(
            pole_id=outcome.folder,
            original_name=outcome.name,
            sha256=d["sha256"],
            received_at=_ts(d["received_at"]),
            decided_at=at,
            status=outcome.status,
            outcome=outcome.outcome,
            note=outcome.note,
            issues=outcome.issues,
            submission_id=outcome.submission_id,
            annotated_name=annotated_name,
            late=bool(sub.get("late")),
        )
        file_format = sub["file_format"]

        def job() -> None:
            fault_point(self.settings, "during_feedback")
            t = time.perf_counter()
            written = write_feedback(
                folder_path=self.settings.pole_inbox(outcome.folder),
                paths=paths,
                archived=archived,
                file_format=file_format if annotatable else None,
                issues=outcome.issues if annotatable else [],
                receipt=html_text,
            )
            rep.time("retours", time.perf_counter() - t)
            home = self.settings.home
            line.receipt = str(written["receipt"].relative_to(home)) if written["receipt"] else None
            line.annotated = (
                str(written["annotated"].relative_to(home)) if written["annotated"] else None
            )

        if self.feedback_jobs is not None:
            self.feedback_jobs.append(job)
        else:
            job()

    def write_feedback_jobs(self) -> None:
        """Write the queued feedback files. A file that cannot be written (full disk) is
        reported; the decision stands (it is journaled) and the run goes on."""
        jobs, self.feedback_jobs = self.feedback_jobs or [], []
        for job in jobs:
            try:
                job()
            except OSError as exc:
                self.report.errors.append(
                    "retour au pôle non écrit (`ptce reprocess` le réécrira) : "
                    + describe_error(exc)
                )

    # -- replay of journal records (catch-up and rebuild) ---------------------------------------
    def replay(self, records: list[dict[str, Any]], current: Config) -> int:
        """Apply journal records in order; → how many were applied."""
        ledger = self.ledger
        applied = 0
        i = 0
        while i < len(records):
            rec = records[i]
            kind = rec.get("type")
            if kind == "config":
                self.store.latest = self.store.get(rec)
                if rec.get("at"):
                    from ptce_pipeline.store.warehouse import load_reference

                    latest = self.store.latest
                    load_reference(
                        self.mirror.con,
                        latest.ref,
                        latest.registry,
                        latest.campaigns,
                        _ts(rec["at"]),
                    )
                ledger.last_seq = max(ledger.last_seq or 0, int(rec["seq"]))
            elif kind == "delivery":
                cfg = self._cfg_for(rec, current)
                ledger.delivery(rec, registered=cfg.registered(rec.get("folder", "")))
            elif kind == "decision":
                group = [rec]
                while (
                    i + 1 < len(records)
                    and records[i + 1].get("type") == "decision"
                    and records[i + 1].get("versions") == rec.get("versions")
                    and str(records[i + 1].get("at"))[:10] == str(rec.get("at"))[:10]
                ):
                    i += 1
                    group.append(records[i])
                self._replay_decisions(group, current)
                applied += len(group) - 1
            elif kind == "failure":
                ledger.failure(int(rec["delivery"]), rec.get("reason", ""), _ts(rec["at"]))
            elif kind == "withdraw":
                ledger.withdraw(
                    int(rec["seq"]),
                    int(rec["submission"]),
                    rec.get("reason", ""),
                    rec.get("by", ""),
                    _ts(rec["at"]),
                )
            elif kind == "reprocess":
                self._replay_reprocess(rec, current)
            elif kind == "campaign_close":
                cfg = self._cfg_for(rec, current)
                ledger.close_campaign(
                    int(rec["seq"]),
                    int(rec["period"]),
                    rec.get("by", ""),
                    _ts(rec["at"]),
                    rec.get("reason"),
                    cfg.campaigns.deadline(int(rec["period"])),
                )
            elif kind == "campaign_reopen":
                cfg = self._cfg_for(rec, current)
                ledger.reopen_campaign(
                    int(rec["seq"]),
                    int(rec["period"]),
                    rec.get("by", ""),
                    _ts(rec["at"]),
                    rec.get("reason"),
                    cfg.campaigns.deadline(int(rec["period"])),
                )
            ledger.last_seq = max(ledger.last_seq or 0, int(rec.get("seq", 0)))
            applied += 1
            i += 1
        return applied

    def _cfg_for(self, rec: dict[str, Any], current: Config) -> Config:
        versions = rec.get("versions")
        if versions:
            return self.store.get(versions)
        return self.store.latest or current

    def _replay_decisions(self, group: list[dict[str, Any]], current: Config) -> None:
        ledger = self.ledger
        cfg = self._cfg_for(group[0], current)
        versions = versions_from(group[0]["versions"]) if group[0].get("versions") else cfg.versions
        at = _ts(group[0]["at"])
        need: list[tuple[dict, Path]] = []
        seen: set[tuple[str, str]] = set()
        for rec in group:
            d = ledger.get_delivery(int(rec["delivery"]))
            key = (d["sha256"], d["inbox_folder"])
            if key in seen:
                continue
            if ledger.needs_validation(
                d["sha256"], d["inbox_folder"], versions, cfg.registered(d["inbox_folder"])
            ):
                seen.add(key)
                sub = ledger.submission_for(*key)
                need.append(
                    (rec, self._abs(Path(sub["archived_path"])) if sub else self._archived(d))
                )
        outcomes = self.read(cfg, [p for _r, p in need])
        results: dict[int, Result | None] = {}
        for (rec, _p), o in zip(need, outcomes, strict=True):
            d = ledger.get_delivery(int(rec["delivery"]))
            prev = self.recorded_previous(rec.get("previous_submission"))
            res = self.validate(cfg, [o], [d["inbox_folder"]], _ts(rec["at"]), previous=prev)
            results[int(rec["delivery"])] = res[0]
        for rec in group:
            did = int(rec["delivery"])
            d = ledger.get_delivery(did)
            rec_at = _ts(rec["at"])
            if did in results and results[did] is None:
                ledger.failure(did, "relecture impossible pendant la reprise", rec_at)
                continue
            self._decide(
                cfg,
                did,
                cfg.registered(d["inbox_folder"]),
                results.get(did),
                rec_at,
                rec.get("previous_submission"),
            )
            ledger.last_seq = max(ledger.last_seq or 0, int(rec["seq"]))
        del at

    def reprocess(
        self,
        cfg: Config,
        sid: int,
        at: dt.datetime,
        *,
        by: str,
        reason: str,
        seq: int,
        previous_submission: int | None = None,
        recorded: bool = False,
    ) -> Outcome | None:
        ledger = self.ledger
        sub = ledger.subs[sid]
        archived = self._abs(Path(sub["archived_path"]))
        outcomes = self.read(cfg, [archived])
        prev = self.recorded_previous(previous_submission) if recorded else None
        results = self.validate(cfg, outcomes, [sub["inbox_folder"]], at, previous=prev)
        if results[0] is None:
            self._failure(sid, outcomes[0].crashed or "lecture impossible", at)
            return None
        if not recorded:
            prev_ids = getattr(self, "_prev_ids", {})
            content = results[0].content
            if content is not None:
                pole = content.identity.get("pole_id")
                period = content.identity.get("periode")
                if pole is not None and period is not None and isinstance(period.value, int):
                    previous_submission = prev_ids.get((pole.value, period.value - 1))
        paths = feedback_paths(
            self.settings.pole_inbox(sub["inbox_folder"]), sub["original_name"], at, sid
        )
        rel = {k: str(v.relative_to(self.settings.home)) for k, v in paths.items()}
        outcome = ledger.reprocess(
            seq,
            sid,
            results[0],
            versions=cfg.versions,
            at=at,
            late_fn=cfg.campaigns.is_late,
            feedback_paths=rel,
            by=by,
            reason=reason,
            previous_submission_id=previous_submission,
        )
        d = ledger.get_delivery(sid)
        self._account(outcome, d, at, cfg, paths, results[0])
        self._last_previous = previous_submission
        return outcome

    def _replay_reprocess(self, rec: dict[str, Any], current: Config) -> None:
        cfg = self._cfg_for(rec, current)
        self.reprocess(
            cfg,
            int(rec["submission"]),
            _ts(rec["at"]),
            by=rec.get("by", ""),
            reason=rec.get("reason", ""),
            seq=int(rec["seq"]),
            previous_submission=rec.get("previous_submission"),
            recorded=True,
        )


# The annotated copy is built with openpyxl in this process: only for workbooks of a sane size
# (a filled template is about 30 KB); the receipt lists every problem anyway.
MAX_ANNOTATE_BYTES = 5 * 1024 * 1024


def _small(path: Path) -> bool:
    try:
        return path.stat().st_size <= MAX_ANNOTATE_BYTES
    except OSError:
        return False
