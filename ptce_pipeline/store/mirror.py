"""The ledger's DuckDB side: load its in-memory mirror of the warehouse tables, answer what it
reads lazily, and write what it decided back in one transaction per flush (all of a file's rows
or none). DataFrame inserts, for speed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ptce_pipeline.faults import fault_point
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.pole_rows import ROW_TABLES, append_frame, append_rows
from ptce_pipeline.store.records import (
    AUDIT_COLUMNS,
    DELIVERY_COLUMNS,
    SUBMISSION_COLUMNS,
    TIME_COLUMNS,
    as_datetime_or_none,
)

if TYPE_CHECKING:
    from ptce_pipeline.config import Settings


class Mirror:
    """A `Ledger` loaded from the warehouse open on `con`, and its writer.

    `faults`: the settings whose fault injection (`Settings.fault`, tests only) applies at the
    points a flush passes (`load_before_commit`, `load_commit`); None for none.
    """

    def __init__(
        self,
        con,
        personal_fields: frozenset[str] = frozenset(),
        *,
        faults: Settings | None = None,
    ):
        self.con = con
        self.faults = faults
        cols = ", ".join(
            f"epoch_us({c}) AS {c}" if c in TIME_COLUMNS else c for c in SUBMISSION_COLUMNS
        )
        subs = {
            row[0]: dict(zip(SUBMISSION_COLUMNS, row, strict=True))
            for row in con.execute(f"SELECT {cols} FROM submissions").fetchall()
        }
        closed = dict(con.execute("SELECT period, closed FROM campaigns").fetchall())
        self.ledger = Ledger(subs, closed, personal_fields, warehouse=self)

    # -- what the ledger reads when it needs it ---------------------------------------------------
    def delivery(self, did: int) -> dict[str, Any] | None:
        cols = ", ".join(DELIVERY_COLUMNS)
        row = self.con.execute(
            f"SELECT {cols} FROM deliveries WHERE delivery_id = ?", [did]
        ).fetchone()
        return None if row is None else dict(zip(DELIVERY_COLUMNS, row, strict=True))

    def indicator_values(self, sid: int) -> dict[str, float]:
        return dict(
            self.con.execute(
                "SELECT indicator_code, value FROM indicator_values WHERE submission_id = ? AND value IS NOT NULL",
                [sid],
            ).fetchall()
        )

    def issue_rows(self, sid: int) -> list[tuple]:
        return self.con.execute(
            "SELECT submission_id, seq, sheet, cell, column_name, code, severity, message, value "
            "FROM validation_issues WHERE submission_id = ?",
            [sid],
        ).fetchall()

    # -- writing ----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write everything the ledger decided since the last flush, in one transaction."""
        import pandas as pd

        con, ledger = self.con, self.ledger
        if not ledger.pending() and ledger.last_seq is None:
            return
        con.execute("BEGIN")
        try:
            if ledger.dirty_deliveries:
                ids = sorted(ledger.dirty_deliveries)
                con.execute("DELETE FROM deliveries WHERE delivery_id IN (SELECT unnest(?))", [ids])
                frame = pd.DataFrame(
                    [ledger.deliveries[i] for i in ids], columns=list(DELIVERY_COLUMNS)
                )
                append_frame(con, "deliveries", frame)
            if ledger.dirty:
                ids = sorted(ledger.dirty)
                con.execute(
                    "DELETE FROM submissions WHERE submission_id IN (SELECT unnest(?))", [ids]
                )
                rows = [
                    {
                        **ledger.subs[i],
                        **{c: as_datetime_or_none(ledger.subs[i][c]) for c in TIME_COLUMNS},
                    }
                    for i in ids
                ]
                frame = pd.DataFrame(rows, columns=list(SUBMISSION_COLUMNS))
                append_frame(con, "submissions", frame)
            if ledger.replace_data:
                ids = sorted(ledger.replace_data)
                for table in ROW_TABLES:
                    con.execute(
                        f"DELETE FROM {table} WHERE submission_id IN (SELECT unnest(?))", [ids]
                    )
            fault_point(self.faults, "load_before_commit")
            for table in ROW_TABLES:
                rows = [r for sid in sorted(ledger.data) for r in ledger.data[sid].get(table, ())]
                if rows:
                    append_rows(con, table, rows)
            if ledger.audit:
                append_frame(con, "audit", pd.DataFrame(ledger.audit, columns=list(AUDIT_COLUMNS)))
            for p, deadline, closed, closed_at, by, keep in ledger.new_campaigns.values():
                con.execute(
                    "INSERT INTO campaigns (period, deadline, closed, closed_at, closed_by, keep_unreviewed) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (period) DO UPDATE SET "
                    "closed = excluded.closed, closed_at = excluded.closed_at, closed_by = excluded.closed_by, keep_unreviewed = excluded.keep_unreviewed",
                    [p, deadline, closed, closed_at, by, keep],
                )
            for period, (n, at) in sorted(ledger.bumps.items()):
                con.execute(
                    "INSERT INTO period_versions VALUES (?, ?, ?) ON CONFLICT (period) DO UPDATE SET "
                    "version = period_versions.version + excluded.version, changed_at = excluded.changed_at",
                    [period, n, at],
                )
            for key, value in sorted(ledger.meta.items()):
                con.execute(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )
            if ledger.last_seq is not None:
                con.execute(
                    "INSERT INTO meta VALUES ('journal_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(ledger.last_seq)],
                )
            fault_point(self.faults, "load_commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        ledger.written()
