"""The review rules of the submission state machine (issue 19): an accepted content waits for
review (`a_revoir`) until the national team signs it off (`validee`) or sends it back to the pole
with a comment (`a_corriger`). A new content for the same pole and period starts again at
`a_revoir`; the same bytes dropped again change nothing (the review state belongs to the
content). A review decision changes the period's figures as published (the public release rests
on signed-off declarations), so it counts as a change of the period's data version.

A mixin of `store.ledger.Ledger`: it works on the same in-memory tables."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ptce_pipeline.store.records import MIGRATION_USER, SIGNED_OFF, TO_REVIEW

MIGRATION_REASON = "reprise de l'existant : campagne close avant la relecture nationale"


class ReviewRules:
    subs: dict[int, dict[str, Any]]
    audit: list[tuple]
    dirty: set[int]
    meta: dict[str, str]
    last_seq: int | None

    def _reviewed_result(self, sub: dict[str, Any], *, errors: int, was_accepted: bool) -> None:
        """After a (re)validation: a refused content has no review state; a content accepted
        for the first time waits for review; one accepted again keeps its review."""
        if errors:
            sub.update(review_state=None, reviewed_at=None, reviewed_by=None, review_comment=None)
        elif not was_accepted or sub.get("review_state") is None:
            sub.update(
                review_state=TO_REVIEW, reviewed_at=None, reviewed_by=None, review_comment=None
            )

    def review(
        self,
        seq: int,
        sid: int,
        decision: str,
        comment: str | None,
        by: str,
        at: dt.datetime,
    ) -> str | None:
        """Record a reviewer's decision on submission `sid`; → its review state before."""
        self._event()
        sub = self.subs[sid]
        before = sub.get("review_state")
        sub.update(review_state=decision, reviewed_at=at, reviewed_by=by, review_comment=comment)
        self.dirty.add(sid)
        details = json.dumps({"before": before, "after": decision})
        self.audit.append((seq, at, by, "review", sid, sub["period"], comment, details))
        self._bump(sub["period"], at)
        self.last_seq = max(self.last_seq or 0, seq)
        return before

    def review_migration(self, seq: int, sids: list[int], at: dt.datetime) -> None:
        """Migration 004's backfill, as journaled: these accepted contents of closed campaigns
        are signed off by the migration."""
        self._event()
        for sid in sids:
            sub = self.subs.get(sid)
            if sub is None:
                continue
            sub.update(
                review_state=SIGNED_OFF,
                reviewed_at=at,
                reviewed_by=MIGRATION_USER,
                review_comment=None,
            )
            self.dirty.add(sid)
        details = json.dumps({"submissions": list(sids)})
        self.audit.append(
            (seq, at, MIGRATION_USER, "review_migration", None, None, MIGRATION_REASON, details)
        )
        self.meta["review_migration"] = "done"
        self.last_seq = max(self.last_seq or 0, seq)
