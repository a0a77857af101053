"""Read and validate: archived files → reader outcomes (worker processes) → items →
`validate_batch` → one `Result` each. The one path of a live run, of a replay, of
`reprocess` and of `ptce check`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline.catalogue.context import Config
from ptce_pipeline.config import Settings
from ptce_pipeline.content.model import Content
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.reading.sandbox import ReaderPool, ReadOutcome
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.previous import PeriodValues, previous_values
from ptce_pipeline.store.records import Result
from ptce_pipeline.validation import Context, Item, validate_batch

# (pole_id, period) → (previous period, {indicator code: value}) or None
Lookup = Callable[[str, int], tuple[int, dict[str, float]] | None]


@dataclass
class Pending:
    """One delivery to decide, and whether its file must be read and validated."""

    did: int
    sha256: str
    folder: str
    archived: Path
    needs: bool


def _pole_period(content: Content | None) -> tuple[str, int] | None:
    if content is None:
        return None
    pole = content.identity.get("pole_id")
    period = content.identity.get("periode")
    if pole is None or period is None or not isinstance(period.value, int):
        return None
    return pole.value, period.value


@dataclass(frozen=True)
class PreviousPeriods:
    """The earlier declaration of the poles of a batch, from the analysts' snapshot: for
    each (pole, declared period), the one in force for the latest earlier period
    (`store.previous.earlier_declarations`, the rule the pre-filled workbook follows too)."""

    found: dict[tuple[str, int], PeriodValues] = field(default_factory=dict)

    def lookup(self, pole: str, period: int) -> tuple[int, dict[str, float]] | None:
        entry = self.found.get((pole, period))
        return None if entry is None else (entry.period, entry.values)

    def submission_before(self, content: Content | None) -> int | None:
        """The earlier declaration `content` is compared with (journaled with the decision,
        so that a replay checks against the same values)."""
        key = _pole_period(content)
        entry = None if key is None else self.found.get(key)
        return None if entry is None else entry.submission_id


def previous_periods(settings: Settings, contents: list[Content]) -> PreviousPeriods:
    wanted = set()
    for c in contents:
        key = _pole_period(c)
        if key is not None and isinstance(key[0], str):
            wanted.add(key)
    return PreviousPeriods(previous_values(settings.snapshot_db, wanted))


def recorded_previous(ledger: Ledger, sid: int | None) -> Lookup:
    """The previous period a journaled decision was checked against (replays, `rebuild`)."""
    if sid is None:
        return lambda pole, period: None
    values, period = ledger.indicator_values_of(sid)

    def lookup(pole: str, p: int):
        return (period, values) if values else None

    return lookup


def contents_of(outcomes: list[ReadOutcome]) -> list[Content]:
    return [o.content for o in outcomes if not o.crashed and o.content is not None]


def validate_outcomes(
    outcomes: list[ReadOutcome], folders: list[str | None], ctx: Context
) -> list[Result | None]:
    """→ a Result per outcome, or None when reading failed because of us (a crashed reader)."""
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
        issue_lists = validate_batch(items, ctx)
        for k, issues, item in zip(where, issue_lists, items, strict=True):
            results[k] = Result(issues=issues, content=item.content, file_format=outcomes[k].format)
    return results


class ReadValidate:
    """The reader worker pool of a run (started on first use, restarted when the référentiel
    changes), and validation with the rules of a configuration."""

    def __init__(self, settings: Settings, report: RunReport):
        self.settings = settings
        self.report = report
        self._pool: ReaderPool | None = None
        self._pool_ref: str | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _readers(self, cfg: Config) -> ReaderPool:
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

    def read(
        self,
        cfg: Config,
        paths: list[Path],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[ReadOutcome]:
        if not paths:
            return []
        t = time.perf_counter()
        outcomes = self._readers(cfg).read(
            [str(p) for p in paths],
            chunk=max(5, self.settings.chunk_size // 8),
            progress=progress,
        )
        self.report.time("lecture", time.perf_counter() - t)
        return outcomes

    def validate(
        self,
        cfg: Config,
        outcomes: list[ReadOutcome],
        folders: list[str],
        at: dt.datetime,
        previous: Lookup | None = None,
    ) -> tuple[list[Result | None], PreviousPeriods]:
        """→ a Result per outcome (None: reading failed because of us), and the previous
        periods looked up in the snapshot (none when `previous` is given)."""
        t = time.perf_counter()
        periods = PreviousPeriods()
        contents = contents_of(outcomes)
        if contents and previous is None:
            periods = previous_periods(self.settings, contents)
            previous = periods.lookup
        ctx = Context(
            ref=cfg.ref,
            registry=cfg.registry,
            campaigns=cfg.campaigns,
            today=at.astimezone(dt.UTC).date(),
            previous=previous,
        )
        results = validate_outcomes(outcomes, folders, ctx)
        self.report.time("validation", time.perf_counter() - t)
        return results, periods

    def pending(
        self,
        cfg: Config,
        pend: list[Pending],
        at: dt.datetime,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[int, tuple]:
        """Read and validate the deliveries that need it → did → (outcome, result, previous
        submission)."""
        to_read = [p for p in pend if p.needs]
        if not to_read:
            return {}
        outcomes = self.read(cfg, [self.absolute(p.archived) for p in to_read], progress)
        results, periods = self.validate(cfg, outcomes, [p.folder for p in to_read], at)
        out = {}
        for p, o, r in zip(to_read, outcomes, results, strict=True):
            prev = periods.submission_before(r.content) if r is not None else None
            out[p.did] = (o, r, prev)
        return out

    def absolute(self, p: Path) -> Path:
        return p if p.is_absolute() else self.settings.home / p
