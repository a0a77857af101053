"""A pole's files as the portal serves them: what its `retours/` holds (receipts, annotated
copies, fiches, review notices, prepared workbooks and their notes: the names of the table in docs/conventions.md, nothing else), and its original
files from the archive. Every read goes through a descriptor opened without following links,
so nothing a pole puts in its folder can make the portal read outside it."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ptce_pipeline import fsafe
from ptce_pipeline.config import FEEDBACK_DIR, Settings

RECEIPT = re.compile(r"^(\d{8}-\d{6})_(\d+)_.*_recu\.html$")
ANNOTATED = re.compile(r"^(\d{8}-\d{6})_(\d+)_.*_annote\.xlsx$")
FICHE = re.compile(r"^fiche_(\d{4})\.html$")
NOTICE = re.compile(r"^(\d{8}-\d{6})_(\d+)_.*_relecture\.html$")  # n° = the submission's
PREPARED = re.compile(r"^modele_(\d{4})\.xlsx$")  # `ptce campaign prepare`
PREPARED_NOTE = re.compile(r"^modele_(\d{4})_a_lire\.txt$")
MAX_SERVED = 200 * 1024 * 1024  # nothing the pipeline writes comes near


@dataclass(frozen=True)
class Retour:
    name: str
    kind: str  # recu | annote | fiche | relecture | modele | note
    delivery_id: int | None  # receipts and annotated copies
    period: int | None  # fiches, prepared workbooks and their notes
    size: int
    submission_id: int | None = None  # review notices


def _kind(name: str) -> tuple[str, int | None, int | None, int | None] | None:
    """(kind, delivery number, period, submission number) of a name the pipeline writes."""
    if m := RECEIPT.match(name):
        return "recu", int(m.group(2)), None, None
    if m := ANNOTATED.match(name):
        return "annote", int(m.group(2)), None, None
    if m := FICHE.match(name):
        return "fiche", None, int(m.group(1)), None
    if m := NOTICE.match(name):
        return "relecture", None, None, int(m.group(2))
    if m := PREPARED.match(name):
        return "modele", None, int(m.group(1)), None
    if m := PREPARED_NOTE.match(name):
        return "note", None, int(m.group(1)), None
    return None


def _open_retours(settings: Settings, pole_id: str):
    return fsafe.open_dir(settings.inbox, pole_id, FEEDBACK_DIR)


def list_retours(settings: Settings, pole_id: str) -> list[Retour]:
    """The pipeline's files in the pole's `retours/` (plain files only, newest name first)."""
    found: list[Retour] = []
    try:
        with _open_retours(settings, pole_id) as fd:
            for entry in os.scandir(fd):
                kind = _kind(entry.name)
                if kind is None:
                    continue
                with contextlib.suppress(OSError):
                    st = os.stat(entry.name, dir_fd=fd, follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode):
                        found.append(
                            Retour(entry.name, kind[0], kind[1], kind[2], st.st_size, kind[3])
                        )
    except (OSError, ValueError):
        return []
    return sorted(found, key=lambda r: r.name, reverse=True)


def read_retour(settings: Settings, pole_id: str, name: str) -> bytes | None:
    """The bytes of one of the pole's own feedback files, by its exact name; None when the
    name is not one of them (any other name, a link, a folder, a path)."""
    if _kind(name) is None or "/" in name or "\0" in name:
        return None
    try:
        with _open_retours(settings, pole_id) as dir_fd:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SERVED:
                    return None
                with os.fdopen(os.dup(fd), "rb") as fh:
                    return fh.read(MAX_SERVED + 1)[:MAX_SERVED]
            finally:
                os.close(fd)
    except (OSError, ValueError):
        return None


def read_archived(settings: Settings, relative: str) -> bytes | None:
    """An archived original (`warehouse/archive/<sha256><ext>`), by the path the warehouse
    records; None if that path leaves the archive or is not a plain file."""
    name = Path(relative).name
    if not re.fullmatch(r"[0-9a-f]{64}(\.[A-Za-z0-9]{1,8})?", name):
        return None
    if Path(relative).as_posix() != f"warehouse/archive/{name}":
        return None
    try:
        fd = os.open(settings.archive_dir / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return fh.read()
