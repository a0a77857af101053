"""National-team corrections (withdraw, reprocess, close/reopen a campaign) and `rebuild`.

Each correction is journaled (what, which submission, why, when, by whom) before the live
warehouse is touched, recorded in the `audit` table, and applied through the same ledger as
the deliveries — so `rebuild` replays it with the same effect.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.catalogue.context import load_config, versions_dict
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError, NotFound, PtceError
from ptce_pipeline.ingestion.report import RunReport
from ptce_pipeline.ingestion.unit import UnitOfWork, machinery
from ptce_pipeline.store.durable import fsync_dir, fsync_file
from ptce_pipeline.store.health import write_applied
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.ledger import FLUSH_ROWS, Ledger
from ptce_pipeline.store.outbox import mirror_outbox
from ptce_pipeline.store.records import ACCEPTED, SENT_BACK, TO_REVIEW
from ptce_pipeline.store.snapshot import publish_snapshot
from ptce_pipeline.store.warehouse import (
    check_live,
    checkpoint,
    compare_files,
    connect,
    count_rows,
    load_reference,
    migrate,
)

REPLAY_BATCH = 500  # journal records replayed together (decisions of a batch are read at once)


@dataclass
class CorrectionResult:
    lines: list[str] = field(default_factory=list)
    changed: bool = False
    report: RunReport | None = None
    attention: bool = False  # done, but something needs attention (exit 1)


def apply_correction(settings: Settings, body, now=None) -> CorrectionResult:
    """Open a unit of work (finishing any interrupted run first), apply `body`, commit,
    snapshot.

    `body` journals the correction (flushed before the live warehouse is replaced) and applies
    it through the ledger; when it changes nothing, nothing is written."""
    report = RunReport()
    unit = UnitOfWork(
        settings, load_config(settings), Journal(settings), report, (now or settings.clock)()
    )
    result = CorrectionResult(report=report)
    try:
        unit.open()
        body(unit, result)
        if not (result.changed or report.recovered or unit.ledger.pending()):
            unit.abort()
            return result
        unit.commit()
    except BaseException:
        unit.abort()
        raise
    try:
        publish_snapshot(settings)
    except Exception as exc:
        result.lines.append(
            f"Attention : l'instantané des analystes n'a pas été rafraîchi ({exc}) ; il le sera "
            "au prochain passage."
        )
    return result


def _sub(ledger: Ledger, sid: int) -> dict[str, Any]:
    sub = ledger.subs.get(sid)
    if sub is None:
        raise NotFound(f"Aucun dépôt n° {sid} dans l'entrepôt (voir `ptce status`).")
    return sub


def withdraw(settings: Settings, sid: int, *, reason: str, by: str, now=None) -> CorrectionResult:
    def body(unit: UnitOfWork, result: CorrectionResult) -> None:
        sub = _sub(unit.ledger, sid)
        if sub["status"] == "retiree":
            raise NotFound(f"Le dépôt n° {sid} est déjà retiré.")
        was_current = sub["status"] in ACCEPTED
        seq = unit.journal.next_seq()
        reinstated = unit.ledger.withdraw(seq, sid, reason, by, unit.at)
        unit.journal.add(
            {
                "type": "withdraw",
                "submission": sid,
                "reason": reason,
                "by": by,
                "at": unit.at.isoformat(),
            }
        )
        result.changed = True
        result.lines.append(
            f"Dépôt n° {sid} ({sub['pole_id']}, {sub['period']}, « {sub['original_name']} ») retiré."
        )
        if reinstated is not None:
            prev = unit.ledger.subs[reinstated]
            result.lines.append(
                f"Le dépôt n° {reinstated} (« {prev['original_name']} ») redevient la version en vigueur."
            )
        elif was_current and sub["period"] is not None:
            result.lines.append(
                f"Aucune version antérieure acceptée : le pôle n'a plus de données en vigueur pour "
                f"{sub['period']}."
            )

    return apply_correction(settings, body, now)


def reprocess(
    settings: Settings,
    *,
    sid: int | None = None,
    pole: str | None = None,
    period: int | None = None,
    in_error: bool = False,
    reason: str,
    by: str,
    now=None,
) -> CorrectionResult:
    def body(unit: UnitOfWork, result: CorrectionResult) -> None:
        ledger = unit.ledger
        if sid is not None:
            if _sub(ledger, sid)["status"] == "retiree":
                raise NotFound(
                    f"Le dépôt n° {sid} a été retiré par l'équipe nationale : il n'est pas retraité "
                    "(un classeur retiré le reste, même déposé de nouveau)."
                )
            targets = [sid]
        elif pole and period:
            targets = sorted(
                s["submission_id"]
                for s in ledger.subs.values()
                if s["pole_id"] == pole and s["period"] == period and s["status"] != "retiree"
            )
        elif in_error:
            targets = sorted(
                s["submission_id"]
                for s in ledger.subs.values()
                if s["status"] in ("en_erreur", "en_attente")
            )
        else:
            raise ConfigError("Indiquez un numéro de dépôt, --pole et --period, ou --in-error.")
        if not targets:
            result.lines.append("Aucun dépôt à retraiter.")
            return
        versions = versions_dict(unit.cfg.versions)
        for target in targets:
            before = ledger.subs[target]["status"]
            seq = unit.journal.next_seq()
            outcome, previous = unit.decider.reprocess(
                unit.cfg, target, unit.at, by=by, reason=reason, seq=seq
            )
            if outcome is None:
                result.lines.append(
                    f"Dépôt n° {target} : relecture impossible (incident de notre côté)."
                )
                continue
            unit.journal.add(
                {
                    "type": "reprocess",
                    "submission": target,
                    "reason": reason,
                    "by": by,
                    "at": unit.at.isoformat(),
                    "versions": versions,
                    "previous_submission": previous,
                }
            )
            result.changed = True
            result.lines.append(
                f"Dépôt n° {target} : {vocabulary.label(before)} → "
                f"{vocabulary.label(outcome.status)}."
            )

    return apply_correction(settings, body, now)


def campaign(
    settings: Settings,
    period: int,
    *,
    close: bool,
    reason: str | None,
    by: str,
    now=None,
    keep_unreviewed: bool = False,
) -> CorrectionResult:
    """Close or reopen `period`'s campaign. Once closed, its final figures rest on signed-off
    declarations only, or also on those still waiting for review with `keep_unreviewed`; the
    lines say which declarations in force are left out. Reopening clears `keep_unreviewed`."""

    def body(unit: UnitOfWork, result: CorrectionResult) -> None:
        ledger = unit.ledger
        if bool(ledger.closed.get(period)) == close:
            result.lines.append(f"La campagne {period} est déjà {'close' if close else 'ouverte'}.")
            return
        seq = unit.journal.next_seq()
        deadline = unit.cfg.campaigns.deadline(period)
        kind = "campaign_close" if close else "campaign_reopen"
        record: dict[str, Any] = {"type": kind, "period": period}
        if close:
            ledger.close_campaign(
                seq, period, by, unit.at, reason, deadline, keep_unreviewed=keep_unreviewed
            )
            record["keep_unreviewed"] = keep_unreviewed
            result.lines.append(
                f"Campagne {period} close : les fichiers reçus pour cette période seront validés et "
                "conservés, sans changer les données en vigueur jusqu'à la réouverture."
            )
            result.lines += final_figures_lines(ledger.subs.values(), period, keep_unreviewed)
        else:
            held = ledger.reopen_campaign(seq, period, by, unit.at, reason, deadline)
            result.lines.append(
                f"Campagne {period} rouverte : {len(held)} dépôt(s) retenu(s) appliqué(s)."
            )
        unit.journal.add(
            {
                **record,
                "reason": reason,
                "by": by,
                "at": unit.at.isoformat(),
                "versions": versions_dict(unit.cfg.versions),
            }
        )
        result.changed = True

    return apply_correction(settings, body, now)


def _listed(subs: list[dict[str, Any]]) -> str:
    return ", ".join(f"n° {s['submission_id']} ({s['pole_id']})" for s in subs)


def final_figures_lines(subs, period: int, keep_unreviewed: bool) -> list[str]:
    """What a closed campaign's final figures leave out (French): the declarations in force
    that are not signed off (`a_corriger` always, `a_revoir` unless `keep_unreviewed`)."""
    in_force = sorted(
        (s for s in subs if s["period"] == period and s["status"] in ACCEPTED),
        key=lambda s: s["submission_id"],
    )
    waiting = [s for s in in_force if s.get("review_state") == TO_REVIEW]
    sent_back = [s for s in in_force if s.get("review_state") == SENT_BACK]
    excluded = sorted(
        sent_back + ([] if keep_unreviewed else waiting), key=lambda s: s["submission_id"]
    )
    lines = []
    if keep_unreviewed and waiting:
        what = _count(len(waiting), "déclaration à relire reste", "déclarations à relire restent")
        lines.append(
            f"{what} dans les chiffres définitifs (--keep-unreviewed) : {_listed(waiting)}."
        )
    if excluded:
        what = _count(
            len(excluded),
            "déclaration non validée est exclue",
            "déclarations non validées sont exclues",
        )
        lines.append(
            f"{what} des chiffres définitifs : {_listed(excluded)} ; validez-les "
            f"(`ptce review approve`) ou rouvrez la campagne (`ptce campaign reopen {period}`) "
            "le temps de les relire ou que les pôles les corrigent."
        )
    elif not (keep_unreviewed and waiting):
        lines.append("Toutes les déclarations en vigueur sont validées.")
    return lines


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --------------------------------------------------------------------------------------------
def rebuild_into(settings: Settings, target: Path) -> dict[str, int]:
    """Replay the whole journal into a new warehouse file at `target`."""
    for p in (target, Path(str(target) + ".wal")):
        with contextlib.suppress(OSError):
            p.unlink()
    journal = Journal(settings)
    records = list(journal.read())
    if not records:
        raise NotFound(
            f"Le journal {settings.journal_path} est vide ou absent : rien à reconstruire."
        )
    cfg = load_config(settings)
    con = connect(target)
    try:
        migrate(con)
        parts = machinery(settings, con, cfg, None, RunReport(), feedback=False)
        ledger, mirror, replay = parts.ledger, parts.mirror, parts.replayer.replay
        try:
            batch: list[dict] = []
            for rec in records:
                if rec.get("type") == "config":
                    # a live run loads the reference tables after the previous run's flush
                    replay(batch, cfg)
                    batch = []
                    mirror.flush()
                    if not rec.get("at"):  # a config record of an older journal
                        latest = parts.configs.get(rec)
                        load_reference(
                            con,
                            latest.ref,
                            latest.registry,
                            latest.campaigns,
                            _first_time(records, settings.clock()),
                        )
                batch.append(rec)
                if len(batch) >= REPLAY_BATCH:
                    replay(batch, cfg)
                    batch = []
                    if ledger.buffered_rows() > FLUSH_ROWS:
                        mirror.flush()
            replay(batch, cfg)
            ledger.last_seq = int(records[-1]["seq"])
            mirror.flush()
        finally:
            parts.close()
        mirror_outbox(con, settings)  # the outbox is its own journal's: nothing is sent again
        checkpoint(con)
        counts = {"records": len(records), **count_rows(con, "deliveries", "submissions")}
    finally:
        con.close()
    return counts


def _at(value) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _first_time(records: list[dict], default: dt.datetime) -> dt.datetime:
    for rec in records:
        at = _at(rec.get("at"))
        if at:
            return at
    return default


def rebuild(settings: Settings, to: Path | None = None) -> CorrectionResult:
    result = CorrectionResult()
    if to is not None:
        to.mkdir(parents=True, exist_ok=True)
        target = to / "ptce.duckdb"
        counts = rebuild_into(settings, target)
        result.lines.append(
            f"Entrepôt reconstruit : {target} ({counts['submissions']} dépôts, "
            f"{counts['deliveries']} réceptions, {counts['records']} lignes de journal)."
        )
        if settings.live_db.exists():
            with contextlib.suppress(PtceError):
                diff = compare_files(settings.live_db, target)
                result.lines.append(
                    "Identique à l'entrepôt vivant."
                    if not diff
                    else "Différences avec l'entrepôt vivant : " + ", ".join(diff) + "."
                )
        return result
    target = settings.warehouse_dir / "ptce.rebuild.duckdb"
    counts = rebuild_into(settings, target)
    con = connect(target, read_only=True)
    try:
        n = count_rows(con, "deliveries")["deliveries"]
    finally:
        con.close()
    expected = sum(1 for r in Journal(settings).read() if r.get("type") == "delivery")
    if n != expected:
        target.unlink()
        raise PtceError(
            f"Reconstruction incohérente ({n} réceptions pour {expected} dans le journal) : "
            "l'entrepôt vivant n'a pas été remplacé."
        )
    old_ok = True
    try:
        check_live(settings)
    except PtceError:
        old_ok = False
    if settings.live_db.exists() and old_ok:
        try:
            diff = compare_files(settings.live_db, target)
        except Exception:  # damaged beyond its header (a block cannot be read): nothing to compare
            diff = None
        result.lines.append(
            "L'ancien entrepôt était illisible."
            if diff is None
            else "L'entrepôt vivant était déjà identique."
            if not diff
            else "Tables corrigées par la reconstruction : " + ", ".join(diff) + "."
        )
    if settings.live_db.exists():
        # keep a copy of the old file (the live path never goes missing), move its WAL aside
        # (a stale WAL next to the new file would make it unopenable), then swap atomically
        keep = (
            settings.warehouse_dir
            / f"ptce.avant-reconstruction.{settings.clock():%Y%m%d-%H%M%S}.duckdb"
        )
        shutil.copyfile(settings.live_db, keep)
        wal = Path(str(settings.live_db) + ".wal")
        if wal.exists():
            os.replace(wal, Path(str(keep) + ".wal"))
        result.lines.append(f"Ancien fichier conservé : {keep.relative_to(settings.home)}.")
    fsync_file(target)
    os.replace(target, settings.live_db)
    fsync_dir(settings.warehouse_dir)
    write_applied(settings, int(list(Journal(settings).read())[-1]["seq"]))
    publish_snapshot(settings, full=True)
    result.changed = True
    result.lines.insert(
        0,
        f"Entrepôt reconstruit depuis l'archive : {counts['submissions']} dépôts, "
        f"{counts['deliveries']} réceptions, {counts['records']} lignes de journal.",
    )
    return result


__all__ = ["ACCEPTED", "campaign", "rebuild", "reprocess", "withdraw"]
