"""Replaying journal records into a warehouse generation, in order, with the configuration in
force when each was written: the catch-up after an interrupted run, the degraded path and
`rebuild`. Decisions are taken again against the previous period journaled with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue.context import Config, versions_from
from ptce_pipeline.ingestion.deciding import Decider
from ptce_pipeline.ingestion.readvalidate import ReadValidate, recorded_previous
from ptce_pipeline.store.configs import ConfigStore
from ptce_pipeline.store.ledger import Ledger
from ptce_pipeline.store.records import Result
from ptce_pipeline.store.records import as_datetime as _ts
from ptce_pipeline.store.warehouse import load_reference


class Replayer:
    def __init__(
        self,
        ledger: Ledger,
        con,  # the connection the reference tables of each `config` record are loaded into
        configs: ConfigStore,
        readvalidate: ReadValidate,
        decider: Decider,
    ):
        self.ledger = ledger
        self.con = con
        self.configs = configs
        self.readvalidate = readvalidate
        self.decider = decider

    def replay(self, records: list[dict[str, Any]], current: Config) -> int:
        """Apply journal records in order; → how many were applied."""
        ledger = self.ledger
        applied = 0
        i = 0
        while i < len(records):
            rec = records[i]
            kind = rec.get("type")
            if kind == "config":
                self.configs.latest = self.configs.get(rec)
                if rec.get("at"):
                    latest = self.configs.latest
                    load_reference(
                        self.con, latest.ref, latest.registry, latest.campaigns, _ts(rec["at"])
                    )
                ledger.last_seq = max(ledger.last_seq or 0, int(rec["seq"]))
            elif kind == "delivery":
                cfg = self.config_for(rec, current)
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
                self._decisions(group, current)
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
                self.decider.reprocess(
                    self.config_for(rec, current),
                    int(rec["submission"]),
                    _ts(rec["at"]),
                    by=rec.get("by", ""),
                    reason=rec.get("reason", ""),
                    seq=int(rec["seq"]),
                    recorded=True,
                    previous_submission=rec.get("previous_submission"),
                )
            elif kind == "review":
                ledger.review(
                    int(rec["seq"]),
                    int(rec["submission"]),
                    rec["decision"],
                    rec.get("comment"),
                    rec.get("by", ""),
                    _ts(rec["at"]),
                )
            elif kind == "review_migration":
                ledger.review_migration(
                    int(rec["seq"]), [int(x) for x in rec["submissions"]], _ts(rec["at"])
                )
            elif kind in ("campaign_close", "campaign_reopen"):
                cfg = self.config_for(rec, current)
                args = (
                    int(rec["seq"]),
                    int(rec["period"]),
                    rec.get("by", ""),
                    _ts(rec["at"]),
                    rec.get("reason"),
                    cfg.campaigns.deadline(int(rec["period"])),
                )
                if kind == "campaign_close":  # a record older than issue 19: not kept
                    keep = bool(rec.get("keep_unreviewed", False))
                    ledger.close_campaign(*args, keep_unreviewed=keep)
                else:
                    ledger.reopen_campaign(*args)
            ledger.last_seq = max(ledger.last_seq or 0, int(rec.get("seq", 0)))
            applied += 1
            i += 1
        return applied

    def config_for(self, rec: dict[str, Any], current: Config) -> Config:
        versions = rec.get("versions")
        if versions:
            return self.configs.get(versions)
        return self.configs.latest or current

    def _decisions(self, group: list[dict[str, Any]], current: Config) -> None:
        """A run of decisions taken with the same configuration on the same day: the files
        that must be read again are read together."""
        ledger, rv = self.ledger, self.readvalidate
        cfg = self.config_for(group[0], current)
        first = group[0]
        versions = versions_from(first["versions"]) if first.get("versions") else cfg.versions
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
                archived = Path(sub["archived_path"]) if sub else self.decider.archived(d)
                need.append((rec, rv.absolute(archived)))
        outcomes = rv.read(cfg, [p for _r, p in need])
        results: dict[int, Result | None] = {}
        for (rec, _p), o in zip(need, outcomes, strict=True):
            d = ledger.get_delivery(int(rec["delivery"]))
            prev = recorded_previous(ledger, rec.get("previous_submission"))
            res, _ = rv.validate(cfg, [o], [d["inbox_folder"]], _ts(rec["at"]), previous=prev)
            results[int(rec["delivery"])] = res[0]
        for rec in group:
            did = int(rec["delivery"])
            d = ledger.get_delivery(did)
            rec_at = _ts(rec["at"])
            if did in results and results[did] is None:
                ledger.failure(did, "relecture impossible pendant la reprise", rec_at)
                continue
            self.decider.decide_one(
                cfg,
                did,
                cfg.registered(d["inbox_folder"]),
                results.get(did),
                rec_at,
                rec.get("previous_submission"),
            )
            ledger.last_seq = max(ledger.last_seq or 0, int(rec["seq"]))
