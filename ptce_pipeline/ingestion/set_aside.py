"""What cannot be taken is set aside, never a stop for the other poles.

A file over the hard size bound (`Limits.max_file_bytes`, PTCE_MAX_FILE_BYTES), or an inbox entry in the wrong
shape (`inbox` itself, a pole's folder or its `retours/` being a file), is moved whole to
`warehouse/quarantine/`, archived when it is small enough to be read, and journaled once as a
delivery whose outcome is `ecartee` (with its size, where it went, and its hash when it was
archived; a file over the bound is never read, so it costs a rename whatever its size).
The run report words it in French; the run then needs attention (exit 1).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path
from typing import Any

from ptce_pipeline.config import Settings
from ptce_pipeline.ingestion.inbox import move_to_quarantine
from ptce_pipeline.store.journal import display_name, name_fields, store_stream

TOO_LARGE = "too-large"
INBOX_IS_FILE = "inbox-is-file"
POLE_FOLDER_IS_FILE = "pole-folder-is-file"
FEEDBACK_FOLDER_IS_FILE = "feedback-folder-is-file"


def reason_for(settings: Settings, path: Path) -> tuple[str, str]:
    """(inbox folder, reason) of a misshapen inbox entry (see `inbox.misshapen`)."""
    if path == settings.inbox:
        return "", INBOX_IS_FILE
    if path.parent == settings.inbox:
        return path.name, POLE_FOLDER_IS_FILE
    return path.parent.name, FEEDBACK_FOLDER_IS_FILE


def set_aside(
    settings: Settings, path: Path, folder: str, reason: str, at: dt.datetime
) -> dict[str, Any]:
    """Archive (when it can be read and is within the size bound), then move to the quarantine
    → the `delivery` record to journal. Raises OSError when the entry cannot be moved (it
    stays where it is and is tried again at the next run)."""
    st = os.lstat(path)
    sha, size, archived = "", st.st_size if stat.S_ISREG(st.st_mode) else 0, ""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    if stat.S_ISREG(st.st_mode) and st.st_size <= settings.limits.max_file_bytes:
        try:
            fd = os.open(path, flags)
            try:
                stored = store_stream(settings, fd, path.name)
            finally:
                os.close(fd)
            if stored is not None:
                sha, size, where = stored
                archived = str(where.relative_to(settings.home))
        except OSError:  # unreadable: kept in the quarantine all the same
            pass
    # over the bound: moved (a rename, whatever its size), never read nor hashed — a huge
    # file must not cost the other poles' run its time either
    target = move_to_quarantine(settings, path)
    return {
        "type": "delivery",
        "at": at.isoformat(),
        "folder": folder,
        **name_fields(path.name),
        "size": size,
        "sha256": sha,
        "archived_path": archived,
        "set_aside": reason,
        "limit": settings.limits.max_file_bytes,
        "quarantined_path": str(target.relative_to(settings.home)),
    }


def _mo(n: int) -> str:
    return f"{n / (1 << 20):.1f}".replace(".", ",") + " Mo"


def set_aside_line(rec: dict[str, Any]) -> str:
    """One French line for the run report (the national team)."""
    folder, name = rec.get("folder") or "", rec.get("name") or ""
    where = f"{folder}/{name}" if folder and name != folder else name or "inbox"
    moved = rec.get("quarantined_path", "warehouse/quarantine/")
    size, limit = int(rec.get("size") or 0), int(rec.get("limit") or 0)
    reason = rec.get("set_aside")
    if reason == TOO_LARGE:
        why = (
            f"trop volumineux ({_mo(size)}, soit {size} octets, pour une limite de "
            f"{_mo(limit)}) ; gardé sans être lu dans {moved} — le pôle doit déposer un "
            "classeur plus léger"
        )
    elif reason == INBOX_IS_FILE:
        why = f"« inbox » était un fichier et non un dossier ; mis de côté dans {moved}, dossier recréé"
    elif reason == POLE_FOLDER_IS_FILE:
        why = (
            f"un fichier occupait la place du dossier du pôle ; mis de côté dans {moved}, "
            "dossier recréé"
        )
    elif reason == FEEDBACK_FOLDER_IS_FILE:
        why = (
            f"un fichier nommé « retours » occupait la place du dossier des retours ; mis de "
            f"côté dans {moved}, dossier recréé"
        )
    else:
        why = f"mis de côté dans {moved}"
    return display_name(f"{where} : {why}")
