"""The outbox: every e-mail the pipeline means to send, journaled like the deliveries.

`warehouse/courriels.jsonl` (mode 0600: it holds addresses) is append-only and fsynced, with
its own `seq`. Records:

- `cursor` — the main journal's records up to `journal_seq` have been turned into messages
  (their `queued` records come before it, in the same write);
- `queued` — a message, under its stable key, with its recipients and its text;
- `intent` — a send of that key is about to start; `sent` — the server accepted it (`refused`:
  the recipients it refused); `failed` — it will not be sent (`reason`).

A key with `sent` is never sent again; a key with an `intent` and no `sent` (a run killed in
between) is sent again: at most twice, never lost. The journal is mirrored into the `outbox`
table of the live warehouse at each commit (`mirror_outbox`), and by `ptce rebuild`; it is
never rebuilt from the warehouse, so a rebuild sends nothing again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.config import Settings
from ptce_pipeline.store.journal import Journal


class OutboxJournal(Journal):
    MODE = 0o600

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.path = settings.outbox_path

    def write(self, records: list[dict[str, Any]]) -> None:
        """Append the records in one write, fsynced."""
        for record in records:
            self.add(record)
        self.flush()


@dataclass
class Entry:
    """One message of the outbox, folded from its records."""

    key: str
    message: dict[str, Any]
    queued_at: str
    attempts: int = 0
    last_attempt_at: str | None = None
    sent_at: str | None = None
    refused: list[str] = field(default_factory=list)
    failure: str | None = None

    @property
    def pending(self) -> bool:
        return self.sent_at is None and self.failure is None


@dataclass
class Outbox:
    entries: dict[str, Entry]
    cursor: int | None  # None: the outbox was never started (no mail was ever configured)

    def pending(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.pending]


def read_outbox(journal: OutboxJournal) -> Outbox:
    entries: dict[str, Entry] = {}
    cursor: int | None = None
    for rec in journal.read():
        kind, key = rec.get("type"), rec.get("key", "")
        if kind == "cursor":
            cursor = max(cursor or 0, int(rec.get("journal_seq", 0)))
        elif kind == "queued" and key not in entries:
            entries[key] = Entry(key, dict(rec.get("message") or {}), str(rec.get("at")))
        elif key in entries:
            entry = entries[key]
            if kind == "intent":
                entry.attempts += 1
                entry.last_attempt_at = str(rec.get("at"))
            elif kind == "sent" and entry.sent_at is None:
                entry.sent_at = str(rec.get("at"))
                entry.refused = list(rec.get("refused") or [])
            elif kind == "failed" and entry.sent_at is None:
                entry.failure = str(rec.get("reason") or "")
    return Outbox(entries, cursor)


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value and value != "None" else None


def mirror_outbox(con, settings: Settings) -> int:
    """Replace the `outbox` table by the outbox journal's state → its row count. The caller
    writes a generation (a run's commit, a rebuild); without the table (an older schema), 0."""
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "outbox" not in tables:
        return 0
    outbox = read_outbox(OutboxJournal(settings))
    rows = []
    for e in outbox.entries.values():
        m = e.message
        rows.append(
            (
                e.key,
                m.get("kind", ""),
                m.get("pole"),
                m.get("period"),
                m.get("submission"),
                m.get("milestone"),
                ";".join(m.get("to") or []),
                m.get("subject", ""),
                _ts(e.queued_at),
                e.attempts,
                _ts(e.last_attempt_at),
                _ts(e.sent_at),
                ";".join(e.refused) or None,
                e.failure,
            )
        )
    con.execute("DELETE FROM outbox")
    if rows:
        con.executemany(f"INSERT INTO outbox VALUES ({', '.join('?' * 14)})", rows)
    return len(rows)
