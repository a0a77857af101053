"""The ledger alone: a pure state machine that decides without a warehouse (no DuckDB), records
what changed for `store.mirror` to write, and gives its reasons as note codes."""

from __future__ import annotations

import datetime as dt

from ptce_pipeline.catalogue.context import Versions
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.records import Note, Result

VERSIONS = Versions("r" * 64, "1.0", "1", "g" * 64, "c" * 64)
FIRST = dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 4, 16, 8, 0, tzinfo=dt.UTC)


def drop(ledger: Ledger, seq: int, sha: str, at: dt.datetime) -> None:
    rec = {
        "seq": seq,
        "at": at.isoformat(),
        "folder": "PTCE-001",
        "name": f"v{seq}.xlsx",
        "size": 10,
        "sha256": sha,
        "archived_path": f"archive/{sha}.xlsx",
    }
    ledger.delivery(rec, registered=True)


def decide(ledger: Ledger, did: int, result: Result | None, at: dt.datetime):
    return ledger.decide(
        did,
        registered=True,
        result=result,
        versions=VERSIONS,
        at=at,
        late_fn=lambda period, received: False,
        feedback_paths={},
    )


def test_the_same_content_dropped_again_changes_nothing_and_says_when_it_came():
    ledger = Ledger()
    drop(ledger, 1, "a" * 64, FIRST)
    first = decide(ledger, 1, Result(issues=[]), FIRST)
    assert (first.outcome, first.status, first.note) == ("nouvelle", "acceptee", None)
    assert ledger.pending()
    ledger.written()
    assert not ledger.pending()

    drop(ledger, 2, "a" * 64, LATER)
    again = decide(ledger, 2, None, LATER)
    assert (again.outcome, again.submission_id, again.status) == ("doublon", 1, "acceptee")
    assert again.note == Note("already-received", {"received": FIRST})
    assert not again.changed


def test_a_folder_of_no_registered_pole_gets_a_note_code():
    ledger = Ledger()
    drop(ledger, 1, "b" * 64, FIRST)
    out = ledger.decide(
        1,
        registered=False,
        result=None,
        versions=VERSIONS,
        at=FIRST,
        late_fn=lambda period, received: False,
        feedback_paths={},
    )
    assert (out.outcome, out.note) == ("expediteur_inconnu", Note("unknown-sender"))
