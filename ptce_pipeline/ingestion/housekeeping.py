"""Housekeeping at the start and end of a run: what the journal says is left to do
(undecided deliveries, files that could not be removed), whether the warehouse takes writes,
the temporary feedback files an interrupted run left."""

from __future__ import annotations

import contextlib
import os

from ptce_pipeline import fsafe
from ptce_pipeline.config import FEEDBACK_DIR, Settings
from ptce_pipeline.errors import WarehouseError
from ptce_pipeline.errors import os_reason as why
from ptce_pipeline.ingestion.inbox import (
    Candidate,
)
from ptce_pipeline.store.journal import (
    Journal,
    display_name,
)


def undecided_deliveries(journal: Journal) -> list[int]:
    """Deliveries journaled without a decision (nor a failure) after them: claimed by a run
    that was killed, or whose load failed, before deciding them (a duplicate, an unknown
    sender, the files of a chunk that never loaded). Set-aside deliveries are never decided."""
    delivered, decided = [], set()
    for rec in journal.read():
        kind = rec.get("type")
        if kind == "delivery" and not rec.get("set_aside"):
            delivered.append(int(rec["seq"]))
        elif kind in ("decision", "failure"):
            decided.add(int(rec["delivery"]))
    return [did for did in delivered if did not in decided]


def candidate_key(c: Candidate) -> tuple:
    return (c.folder, display_name(c.name), c.size, c.mtime_ns, c.ino)


def not_removed_keys(journal: Journal) -> set[tuple]:
    """The files archived, journaled and decided that could not be taken out of the inbox
    (reported once, when it happened): later runs leave them be."""
    return {
        (r.get("folder", ""), r["name"], r["size"], r.get("mtime_ns"), r.get("ino"))
        for r in journal.read()
        if r.get("type") == "not_removed"
    }


def check_writable(settings: Settings) -> None:
    """The warehouse and its archive take writes, or the run stops before claiming anything."""
    for folder in (settings.warehouse_dir, settings.archive_dir):
        if not folder.is_dir():
            continue
        probe = folder / f".ptce-ecriture-{os.getpid()}.tmp"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise WarehouseError(
                f"impossible d'écrire dans {folder} ({why(exc)}) : rendez ce dossier "
                "accessible en écriture à l'utilisateur qui lance ptce ; aucun fichier n'a été pris"
            ) from None


def sweep_feedback_temps(settings: Settings) -> None:
    """Remove the temporary feedback files an interrupted run left in `retours/`: each pole
    folder and its `retours` opened without following links (a link is left alone)."""
    try:
        poles = sorted(
            e.name for e in os.scandir(settings.inbox) if e.is_dir(follow_symlinks=False)
        )
    except OSError:
        return
    for pole in poles:
        with contextlib.suppress(OSError), fsafe.open_dir(settings.inbox, pole, FEEDBACK_DIR) as fd:
            fsafe.sweep_temps(fd)
