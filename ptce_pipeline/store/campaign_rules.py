"""The campaign rules of the submission state machine: closing a period's campaign (files that
arrive afterwards are validated but held, `retenue`) and reopening it (the held files are
applied). Closing may keep the declarations still waiting for review in the final figures
(`--keep-unreviewed`, issue 19); by default only signed-off declarations count once a campaign
is closed. Reopening clears that choice.

A mixin of `store.ledger.Ledger`: it works on the same in-memory tables."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ptce_pipeline.store.records import rank


class CampaignRules:
    subs: dict[int, dict[str, Any]]
    audit: list[tuple]
    closed: dict[int, bool]
    new_campaigns: dict[int, tuple]
    last_seq: int | None

    def close_campaign(
        self,
        seq: int,
        period: int,
        by: str,
        at: dt.datetime,
        reason: str | None,
        deadline: dt.date,
        *,
        keep_unreviewed: bool = False,
    ) -> None:
        self._event()
        self.closed[period] = True
        self.new_campaigns[period] = (period, deadline, True, at, by, keep_unreviewed)
        details = json.dumps({"keep_unreviewed": True}) if keep_unreviewed else None
        self.audit.append((seq, at, by, "campaign_close", None, period, reason, details))
        self._bump(period, at)
        self.last_seq = max(self.last_seq or 0, seq)

    def reopen_campaign(
        self, seq: int, period: int, by: str, at: dt.datetime, reason: str | None, deadline: dt.date
    ) -> list[int]:
        self._event()
        self.closed[period] = False
        self.new_campaigns[period] = (period, deadline, False, None, None, False)
        held = sorted(
            (s for s in self.subs.values() if s["period"] == period and s["status"] == "retenue"),
            key=rank,
        )
        for sub in held:
            self._install(sub, at)
        applied = [s["submission_id"] for s in held]
        self.audit.append(
            (seq, at, by, "campaign_reopen", None, period, reason, json.dumps({"applied": applied}))
        )
        self._bump(period, at)
        self.last_seq = max(self.last_seq or 0, seq)
        return applied
