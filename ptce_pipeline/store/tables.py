"""The ledger's tables in memory: the submissions, deliveries and campaigns it mirrors, what
it reads lazily from the warehouse, and what changed since the last write (the rows
`store.mirror` flushes). Bookkeeping only: the rules live in `store.ledger`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.store.pole_rows import issues_from_rows as _issues_from_rows


class Warehouse(Protocol):
    """What the ledger reads, when it needs it, from the warehouse it mirrors."""

    def delivery(self, did: int) -> dict[str, Any] | None: ...

    def indicator_values(self, sid: int) -> dict[str, float]: ...

    def issue_rows(self, sid: int) -> list[tuple]: ...


class Tables:
    """The ledger's mirror of the warehouse tables and its pending changes.

    `subs` are the submissions (column → value, times as datetimes or epoch microseconds),
    `closed` the campaigns (period → closed); `warehouse` answers what is not in memory (an
    earlier delivery, the rows of a submission already written). Without a warehouse, the
    tables start empty. What changed since the last write is kept in `dirty`,
    `dirty_deliveries`, `replace_data`, `data`, `audit`, `bumps`, `new_campaigns` and
    `last_seq`, until `written()`.
    """

    def __init__(
        self,
        subs: dict[int, dict[str, Any]] | None = None,
        closed: dict[int, bool] | None = None,
        personal_fields: frozenset[str] = frozenset(),
        warehouse: Warehouse | None = None,
    ):
        self.warehouse = warehouse
        self.personal = personal_fields
        self.subs: dict[int, dict[str, Any]] = dict(subs or {})
        self.by_key = {(s["sha256"], s["inbox_folder"]): sid for sid, s in self.subs.items()}
        self.deliveries: dict[int, dict[str, Any]] = {}
        self.dirty_deliveries: set[int] = set()
        self.closed: dict[int, bool] = dict(closed or {})
        self.dirty: set[int] = set()
        self.replace_data: set[int] = set()
        self.data: dict[int, dict[str, list[tuple]]] = {}  # buffered rows, per submission
        self.audit: list[tuple] = []
        self.bumps: dict[int, list] = {}  # period → [changes, last change time]
        self._touched: set[int] = set()
        self.new_campaigns: dict[int, tuple] = {}
        self.last_seq: int | None = None
        self.meta: dict[str, str] = {}  # warehouse meta keys to write with the next flush

    def _event(self) -> None:
        """A new decision or correction starts: it counts once in each period it changes."""
        self._touched = set()

    def get_delivery(self, did: int) -> dict[str, Any]:
        if did not in self.deliveries:
            row = None if self.warehouse is None else self.warehouse.delivery(did)
            if row is None:
                raise KeyError(did)
            self.deliveries[did] = row
        return self.deliveries[did]

    def submission_for(self, sha256: str, folder: str) -> dict[str, Any] | None:
        sid = self.by_key.get((sha256, folder))
        return None if sid is None else self.subs[sid]

    def _bump(self, period: int | None, at: dt.datetime) -> None:
        """Count a change of `period`'s figures (once per decision or correction)."""
        if period is None or period in self._touched:
            return
        self._touched.add(period)
        entry = self.bumps.setdefault(period, [0, at])
        entry[0] += 1
        entry[1] = at

    # -- reading back -----------------------------------------------------------------------------
    def indicator_values_of(self, sid: int) -> tuple[dict[str, float], int | None]:
        """Indicator values of a submission (buffered rows first, then the database)."""
        if sid in self.data:
            rows = self.data[sid].get("indicator_values", [])
            values = {r[1]: r[2] for r in rows if r[2] is not None}
        elif self.warehouse is not None:
            values = self.warehouse.indicator_values(sid)
        else:
            values = {}
        sub = self.subs.get(sid)
        return values, (sub["period"] if sub else None)

    def issues_of(self, sid: int) -> list[I.Issue]:
        if sid in self.data:
            return _issues_from_rows(self.data[sid].get("validation_issues", []))
        if self.warehouse is None:
            return []
        return _issues_from_rows(self.warehouse.issue_rows(sid))

    # -- what changed since the last write -----------------------------------------------------
    def buffered_rows(self) -> int:
        return sum(len(rows) for tables in self.data.values() for rows in tables.values())

    def pending(self) -> bool:
        return bool(
            self.dirty
            or self.dirty_deliveries
            or self.audit
            or self.new_campaigns
            or self.replace_data
            or self.bumps
            or self.meta
        )

    def written(self) -> None:
        """The changes are in the warehouse: start recording anew (`last_seq` stays)."""
        self.dirty.clear()
        self.dirty_deliveries.clear()
        self.replace_data.clear()
        self.data.clear()
        self.audit.clear()
        self.bumps.clear()
        self.new_campaigns.clear()
        self.meta.clear()
