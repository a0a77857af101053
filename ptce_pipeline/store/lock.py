"""The OS-level warehouse lock: one writer at a time, across the CLI, scheduled runs and
anything else. Taken by the CLI before Prefect starts and by the flows for scheduled runs;
re-entrant within a process. The kernel releases it when the process dies."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
from pathlib import Path

from ptce_pipeline.errors import WarehouseBusy, WarehouseError, os_reason

_held: dict[str, tuple[int, int]] = {}  # path → (fd, depth)
_guard = threading.Lock()


def holder(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


@contextlib.contextmanager
def warehouse_lock(path: Path, what: str | None = None, now: dt.datetime | None = None):
    """Hold the lock for the block; raise WarehouseBusy at once if another process holds it.
    `what` (e.g. "ptce ingest") and `now` (the settings' clock) are written in the lock file
    for the loser's message."""
    key = str(path)
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            acquired_here = False
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:  # a read-only warehouse: say so, before anything is taken
                raise WarehouseError(
                    f"impossible d'écrire dans {path.parent} ({os_reason(exc)}) : rendez ce "
                    "dossier accessible en écriture à l'utilisateur qui lance ptce ; aucun "
                    "fichier n'a été pris"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                who = holder(path)
                raise WarehouseBusy(
                    "Une autre exécution tient déjà l'entrepôt"
                    + (f" ({who})" if who else "")
                    + " : celle-ci s'arrête sans rien traiter."
                ) from None
            since = (now or dt.datetime.now(dt.UTC)).astimezone().strftime("%d/%m/%Y %H:%M:%S")
            label = f"processus {os.getpid()}" + (f", {what}" if what else "") + f", depuis {since}"
            with contextlib.suppress(OSError):  # a full disk must not stop the run here
                os.ftruncate(fd, 0)
                os.write(fd, label.encode())
            _held[key] = (fd, 1)
            acquired_here = True
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        del acquired_here


def is_held_here(path: Path) -> bool:
    return str(path) in _held
