"""The submission state machine: what each delivery, failure and correction does to the
submissions, deliveries, audit trail, campaigns and period versions. Pure: it works on its
in-memory tables (`store.tables`), which `store.mirror` loads from DuckDB and writes back.
It words nothing: a decision's note is a code (`Note`) that `feedback` words for the receipt.

The same code serves a live run, the catch-up after a crash and `ptce rebuild`, so a warehouse
derived from the journal takes the same decisions as the live one did.

Which accepted version of a pole's period is in force: the one the pole dropped last (a
duplicate delivery counts: dropping an older version again means going back to it). A late
retry or a reprocessed older file never overrides a version the pole sent after it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue.context import Versions
from ptce_pipeline.store.campaign_rules import CampaignRules
from ptce_pipeline.store.pole_rows import data_rows, issue_rows
from ptce_pipeline.store.records import (
    ACCEPTED,
    DECIDED,
    SUBMISSION_COLUMNS,
    Note,
    Outcome,
    Result,
    as_datetime,
    as_datetime_or_none,
    period_of,
    rank,
)
from ptce_pipeline.store.review_rules import ReviewRules
from ptce_pipeline.store.tables import Tables, Warehouse

MAX_ATTEMPTS = 3
FLUSH_ROWS = 200_000  # `rebuild` flushes when this many rows are buffered
# Stored in the audit trail when a pole's new drop of an older version reinstates it: warehouse
# data (it must read the same as in existing warehouses), not receipt wording.
REINSTATE_REASON = "le pôle a déposé de nouveau une version antérieure"


class Ledger(CampaignRules, ReviewRules, Tables):
    """The submission state machine over the ledger's tables (see `Tables`)."""

    def __init__(
        self,
        subs: dict[int, dict[str, Any]] | None = None,
        closed: dict[int, bool] | None = None,
        personal_fields: frozenset[str] = frozenset(),
        warehouse: Warehouse | None = None,
    ):
        super().__init__(subs, closed, personal_fields, warehouse)
        self.current: dict[tuple[str, int], int] = {}  # (pole, period) → version in force
        for sid, s in sorted(self.subs.items(), key=lambda kv: rank(kv[1])):
            if s["status"] in ACCEPTED:
                self.current[(s["pole_id"], s["period"])] = sid

    # -- deliveries -----------------------------------------------------------------------------
    def delivery(self, rec: dict[str, Any], *, registered: bool) -> None:
        did = int(rec["seq"])
        at = as_datetime(rec["at"])
        folder = rec.get("folder", "")
        key = (rec["sha256"], folder)
        row = {
            "delivery_id": did,
            "received_at": at,
            "inbox_folder": folder,
            "original_name": rec["name"],
            "size": int(rec["size"]),
            "sha256": rec.get("sha256") or "",
            "outcome": "ecartee" if rec.get("set_aside") else "expediteur_inconnu",
            "submission_id": None,
            "archived_path": rec.get("archived_path", ""),  # not a column: for a late registration
        }
        self.deliveries[did] = row
        self.dirty_deliveries.add(did)
        self.last_seq = max(self.last_seq or 0, did)
        if not registered or rec.get("set_aside"):  # set aside: never read, never decided
            return
        sid = self.by_key.get(key)
        if sid is None:
            self.subs[did] = {
                **dict.fromkeys(SUBMISSION_COLUMNS),
                "submission_id": did,
                "sha256": rec["sha256"],
                "inbox_folder": folder,
                "pole_id": folder,
                "status": "en_attente",
                "n_errors": 0,
                "n_warnings": 0,
                "original_name": rec["name"],
                "archived_path": rec["archived_path"],
                "received_at": at,
                "late": False,
                "attempts": 0,
                "last_delivery_id": did,
                "last_received_at": at,
            }
            self.by_key[key] = did
            self.dirty.add(did)
            sid = did
        elif did > rank(self.subs[sid]):
            self.subs[sid].update(last_delivery_id=did, last_received_at=at)
            self.dirty.add(sid)
        row.update(outcome="nouvelle" if sid == did else "doublon", submission_id=sid)

    def needs_validation(
        self, sha256: str, folder: str, versions: Versions, registered: bool
    ) -> bool:
        if not registered:
            return False
        sub = self.submission_for(sha256, folder)
        if sub is None or sub["status"] in ("en_attente", "en_erreur"):
            return True
        if sub["status"] == "refusee":
            return self._versions_changed(sub, versions)
        return False

    @staticmethod
    def _versions_changed(sub: dict[str, Any], v: Versions) -> bool:
        return (sub["referentiel_sha256"], sub["rules_version"], sub["registry_sha256"]) != (
            v.referentiel_sha256,
            v.rules_version,
            v.registry_sha256,
        )

    # -- decisions ------------------------------------------------------------------------------
    def decide(
        self,
        did: int,
        *,
        registered: bool,
        result: Result | None,
        versions: Versions,
        at: dt.datetime,
        late_fn,
        feedback_paths,
        previous_submission_id: int | None = None,
    ) -> Outcome:
        self._event()
        d = self.get_delivery(did)
        folder, name = d["inbox_folder"], d["original_name"]
        self.last_seq = max(self.last_seq or 0, did)
        if not registered:
            d["outcome"] = "expediteur_inconnu"
            d["submission_id"] = None
            self.dirty_deliveries.add(did)
            return Outcome(did, folder, name, "expediteur_inconnu", note=Note("unknown-sender"))
        sub = self.submission_for(d["sha256"], folder)
        if sub is None or d["outcome"] == "expediteur_inconnu":
            # the folder was registered after the delivery was recorded
            self.delivery(
                {
                    "seq": did,
                    "at": d["received_at"].isoformat(),
                    "folder": folder,
                    "name": name,
                    "size": d["size"],
                    "sha256": d["sha256"],
                    "archived_path": d.get("archived_path") or "",
                },
                registered=True,
            )
            d = self.deliveries[did]
            sub = self.submission_for(d["sha256"], folder)
        sid = sub["submission_id"]
        first = sid == did
        d["outcome"] = "nouvelle" if first else "doublon"
        d["submission_id"] = sid
        self.dirty_deliveries.add(did)
        status = sub["status"]
        out = Outcome(
            did, folder, name, d["outcome"], submission_id=sid, status=status, period=sub["period"]
        )
        if result is None:
            self._known_content(sub, did, at, out)
            out.needs_feedback = True
            return out
        self._apply_result(
            sub,
            result,
            versions=versions,
            at=at,
            late_fn=late_fn,
            feedback_paths=feedback_paths,
            previous_submission_id=previous_submission_id,
        )
        out.status = sub["status"]
        out.period = sub["period"]
        out.issues = result.issues
        out.changed = True
        out.needs_feedback = True
        if sub["status"] == "retenue":
            out.note = Note("held-campaign-closed", {"period": sub["period"]})
        elif sub["status"] == "remplacee":
            out.note = Note("superseded")
        elif not first:
            out.note = Note("validated-again")
        return out

    def _known_content(self, sub, did: int, at, out: Outcome) -> None:
        """A content already decided: nothing to validate again."""
        sid, status = sub["submission_id"], sub["status"]
        received = as_datetime_or_none(sub["received_at"])
        if status in ACCEPTED:
            out.note = Note("already-received", {"received": received})
        elif status == "remplacee":
            if self.closed.get(sub["period"]):
                out.note = Note(
                    "already-received-campaign-closed",
                    {"received": received, "period": sub["period"]},
                )
                return
            self._make_current(sub, at)
            self.audit.append(
                (did, at, "pôle", "reinstate", sid, sub["period"], REINSTATE_REASON, None)
            )
            out.note = Note("already-received-reinstated", {"received": received})
            out.status = sub["status"]
            out.changed = True
        elif status == "refusee":
            out.note = Note("already-received-refused", {"received": received})
            out.issues = self.issues_of(sid)
        elif status == "retiree":
            out.note = Note("already-received-withdrawn", {"received": received})
        elif status == "retenue":
            out.note = Note(
                "already-received-held", {"received": received, "period": sub["period"]}
            )

    def _apply_result(
        self,
        sub,
        result: Result,
        *,
        versions: Versions,
        at,
        late_fn,
        feedback_paths,
        previous_submission_id,
    ) -> None:
        sid = sub["submission_id"]
        old_period = sub["period"]
        was_current = self.current.get((sub["pole_id"], old_period)) == sid
        # a submission never decided has no rows in the database: nothing to delete first
        # (deleting by id scans the row tables, which grow with the warehouse)
        had_rows = sub.get("decided_at") is not None
        was_accepted = sub.get("accepted_status") is not None
        errors, warnings = I.counts(result.issues)
        period = period_of(result.content)
        sub.update(
            period=period,
            file_format=result.file_format,
            template_version=result.content.template_version if result.content else None,
            referentiel_version=versions.referentiel_version,
            referentiel_sha256=versions.referentiel_sha256,
            rules_version=versions.rules_version,
            registry_sha256=versions.registry_sha256,
            campaigns_sha256=versions.campaigns_sha256,
            n_errors=errors,
            n_warnings=warnings,
            decided_at=at,
            late=bool(late_fn(period, as_datetime(sub["received_at"]))),
            last_error=None,
            previous_submission_id=previous_submission_id,
            feedback_annotated=feedback_paths.get("annotated") if result.issues else None,
            feedback_receipt=feedback_paths.get("receipt"),
        )
        self.dirty.add(sid)
        if had_rows:
            self.replace_data.add(sid)
        rows = {} if errors else data_rows(sid, result.content, self.personal)
        rows["validation_issues"] = issue_rows(sid, result.issues)
        self.data[sid] = rows
        self._reviewed_result(sub, errors=errors, was_accepted=was_accepted)
        if was_current:
            del self.current[(sub["pole_id"], old_period)]
        self._bump(old_period, at)
        self._bump(period, at)
        if errors:
            sub["status"] = "refusee"
            sub["accepted_status"] = None
            if was_current:
                self._reinstate_previous(sub["pole_id"], old_period, at, exclude=sid)
            return
        sub["accepted_status"] = "acceptee_avec_avertissements" if warnings else "acceptee"
        if was_current and period != old_period:
            self._reinstate_previous(sub["pole_id"], old_period, at, exclude=sid)
        if period is not None and self.closed.get(period):
            sub["status"] = "retenue"
        else:
            self._install(sub, at)

    def _install(self, sub, at) -> None:
        """An accepted submission takes effect, unless the pole dropped a newer version since."""
        cur = self.current.get((sub["pole_id"], sub["period"]))
        if cur is not None and cur != sub["submission_id"] and rank(self.subs[cur]) > rank(sub):
            sub["status"] = "remplacee"
            self.dirty.add(sub["submission_id"])
            return
        self._make_current(sub, at)

    def _make_current(self, sub, at) -> None:
        key = (sub["pole_id"], sub["period"])
        old = self.current.get(key)
        if old is not None and old != sub["submission_id"]:
            self.subs[old]["status"] = "remplacee"
            self.dirty.add(old)
        sub["status"] = sub["accepted_status"] or "acceptee"
        self.current[key] = sub["submission_id"]
        self.dirty.add(sub["submission_id"])
        self._bump(sub["period"], at)

    def _reinstate_previous(self, pole_id, period, at, *, exclude: int) -> int | None:
        """After the version in force left (withdrawn, refused on reprocessing), the accepted
        version the pole dropped most recently before it takes over."""
        candidates = [
            s
            for s in self.subs.values()
            if s["pole_id"] == pole_id
            and s["period"] == period
            and s["status"] == "remplacee"
            and s["submission_id"] != exclude
        ]
        if not candidates:
            return None
        best = max(candidates, key=rank)
        self._make_current(best, at)
        return best["submission_id"]

    def failure(self, did: int, reason: str, at: dt.datetime) -> dict[str, Any] | None:
        """Our own failure to read a file: never a refusal. A submission not yet decided waits
        for the next run (`en_attente`), `en_erreur` after MAX_ATTEMPTS; a decided one (a
        reprocessing that could not read it) keeps its status."""
        d = self.get_delivery(did)
        sub = self.submission_for(d["sha256"], d["inbox_folder"])
        self.last_seq = max(self.last_seq or 0, did)
        if sub is None:
            return None
        sub["last_error"] = reason[:500]
        self.dirty.add(sub["submission_id"])
        if sub["status"] in DECIDED:
            return sub
        sub["attempts"] = int(sub["attempts"] or 0) + 1
        sub["status"] = "en_erreur" if sub["attempts"] >= MAX_ATTEMPTS else "en_attente"
        return sub

    # -- corrections ----------------------------------------------------------------------------
    def withdraw(self, seq: int, sid: int, reason: str, by: str, at: dt.datetime) -> int | None:
        self._event()
        sub = self.subs[sid]
        before = sub["status"]
        sub["status"] = "retiree"
        self.dirty.add(sid)
        reinstated = None
        key = (sub["pole_id"], sub["period"])
        if self.current.get(key) == sid:
            del self.current[key]
            reinstated = self._reinstate_previous(sub["pole_id"], sub["period"], at, exclude=sid)
        details = json.dumps({"before": before, "reinstated": reinstated})
        self.audit.append((seq, at, by, "withdraw", sid, sub["period"], reason, details))
        self._bump(sub["period"], at)
        self.last_seq = max(self.last_seq or 0, seq)
        return reinstated

    def reprocess(
        self,
        seq: int,
        sid: int,
        result: Result,
        *,
        versions,
        at,
        late_fn,
        feedback_paths,
        by,
        reason,
        previous_submission_id=None,
    ) -> Outcome:
        self._event()
        sub = self.subs[sid]
        before = sub["status"]
        self._apply_result(
            sub,
            result,
            versions=versions,
            at=at,
            late_fn=late_fn,
            feedback_paths=feedback_paths,
            previous_submission_id=previous_submission_id,
        )
        details = json.dumps({"before": before, "after": sub["status"]})
        self.audit.append((seq, at, by, "reprocess", sid, sub["period"], reason, details))
        self.last_seq = max(self.last_seq or 0, seq)
        if sub["status"] == "retenue":
            note = Note("reprocessed-held", {"period": sub["period"]})
        elif sub["status"] == "remplacee":
            note = Note("reprocessed-superseded")
        else:
            note = Note("reprocessed")
        return Outcome(
            sid,
            sub["inbox_folder"],
            sub["original_name"],
            "doublon",
            submission_id=sid,
            status=sub["status"],
            note=note,
            changed=True,
            needs_feedback=True,
            period=sub["period"],
            issues=result.issues,
        )
