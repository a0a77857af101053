"""Finding new files in the inbox: settle delay, junk ignored silently, symbolic links moved
aside (never followed), `retours/` folders never read.

A file is taken once nothing has changed it for the settle delay (its inode change time, on
this machine's clock); it is then read with its size, mtime and inode checked before and
after, archived under its hash and journaled, and only then removed from the inbox (if it
is still the same file).

Settled files are taken in the order they arrived on this machine — their inode change time,
the folder and name breaking ties (`arrival_key`) — so the journal numbers them, and decides
which version is in force, in the order the pole dropped them, whatever their names."""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline import fsafe
from ptce_pipeline.config import FEEDBACK_DIR, Settings
from ptce_pipeline.store.access import whole_uploads
from ptce_pipeline.store.journal import display_name, store_stream

_IGNORED_SUFFIXES = (
    ".tmp",
    ".temp",
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".inprogress",
    ".filepart",
    ".swp",
    ".lock",
)
_IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def ignored(name: str) -> bool:
    low = name.lower()
    # `~$…` is Office's owner file; any other name starting with `~` is a pole's file
    if name.startswith(("~$", ".~lock.", ".")) or low in _IGNORED_NAMES:
        return True
    if low.endswith(_IGNORED_SUFFIXES) or (name.startswith(".~lock") and name.endswith("#")):
        return True
    return bool(re.match(r"^\.?~lock\..*#$", name))


@dataclass(frozen=True)
class Candidate:
    path: Path
    folder: str  # '' for the inbox root; its display form (see `journal.display_name`)
    name: str  # as the file system gives it (undecodable bytes as surrogates)
    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int = 0  # arrival on this machine: the inode's last change (lstat)


def arrival_key(c: Candidate) -> tuple:
    """Arrival order: inode change time, then folder and name (equal times, coarse clocks)."""
    return (c.ctime_ns, c.folder, c.name)


@dataclass
class Scan:
    ready: list[Candidate] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)  # still being written
    symlinks: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def scan_inbox(settings: Settings, settle_seconds: float, *, now: float | None = None) -> Scan:
    result = Scan()
    root = settings.inbox
    if not root.is_dir():
        return result
    now = time.time() if now is None else now
    # files the portal wrote whole (size, inode and mtime as it left them): no settle delay
    whole = whole_uploads(settings.portal_dir)

    def unlistable(exc: OSError) -> None:  # a folder we may not list: said, never a stop
        result.unreadable.append((Path(exc.filename or root), exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unlistable):
        here = Path(dirpath)
        rel = here.relative_to(root)
        parts = rel.parts
        folder = display_name(parts[0]) if parts else ""  # a folder name is never raw bytes
        # never descend into feedback folders, hidden folders or symlinked folders
        keep = []
        for d in sorted(dirnames):
            full = here / d
            if full.is_symlink():
                result.symlinks.append(full)
                continue
            if (len(parts) == 1 and d == FEEDBACK_DIR) or d.startswith("."):
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = here / name
            try:
                st = os.lstat(full)
            except OSError as exc:
                result.unreadable.append((full, exc.strerror or str(exc)))
                continue
            if stat.S_ISLNK(st.st_mode):
                result.symlinks.append(full)
                continue
            if not stat.S_ISREG(st.st_mode) or ignored(name):
                continue
            # ctime is set by this machine's clock on every write, rename or time change:
            # a copy tool that restores the sender's mtime, or a sender whose clock is wrong
            # (mtime in the future), can neither hurry nor block the settle delay
            age = now - st.st_ctime
            portal = (folder, name, st.st_ino, st.st_size, st.st_mtime_ns) in whole
            if age < settle_seconds and not portal:
                result.waiting.append(full)
                continue
            result.ready.append(
                Candidate(full, folder, name, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
            )
    result.ready.sort(key=arrival_key)
    return result


def read_candidate(c: Candidate) -> bytes | None:
    """Read a settled file without following links; None if it changed while we looked."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(c.path, flags)
    try:
        st = os.fstat(fd)
        if st.st_size != c.size or st.st_mtime_ns != c.mtime_ns or st.st_ino != c.ino:
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        st2 = os.fstat(fd)
        if st2.st_size != len(data) or st2.st_mtime_ns != c.mtime_ns:
            return None
        return data
    finally:
        os.close(fd)


def archive_candidate(settings: Settings, c: Candidate) -> tuple[str, int, Path] | None:
    """Hash a settled file and copy it into the archive in one streaming pass, without
    following links → (sha256, size, archived path); None if it changed while we looked."""
    fd = os.open(c.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if st.st_size != c.size or st.st_mtime_ns != c.mtime_ns or st.st_ino != c.ino:
            return None

        def unchanged(size: int) -> bool:
            st2 = os.fstat(fd)
            return size == c.size == st2.st_size and st2.st_mtime_ns == c.mtime_ns

        return store_stream(settings, fd, c.name, unchanged=unchanged)
    finally:
        os.close(fd)


def remove_claimed(c: Candidate, inbox: Path) -> None:
    """Remove a file from the inbox once it is archived and journaled, only if the name still
    holds that very file, never through a link: each folder from `inbox` down is opened
    without following links (`fsafe`), and a folder swapped for a link or a file since the
    scan leaves the file where it is (the journal knows it: the next run only removes it)."""
    try:
        parts = c.path.relative_to(inbox).parts
    except ValueError:
        return
    try:
        with fsafe.open_dir(inbox, *parts[:-1]) as fd:
            fsafe.unlink_same(fd, parts[-1], ino=c.ino, size=c.size, mtime_ns=c.mtime_ns)
    except (FileNotFoundError, fsafe.UnsafePath):
        return


def quarantine_symlink(settings: Settings, link: Path) -> Path:
    """Move a symbolic link (the link itself, never its target) to warehouse/quarantine/."""
    return move_to_quarantine(settings, link, "lien")


def move_to_quarantine(settings: Settings, path: Path, default: str = "fichier") -> Path:
    """Move an inbox entry, whole and as it is (a link is never followed), to
    warehouse/quarantine/ under a stamped, safe name → where it now is."""
    target_dir = settings.quarantine_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = settings.clock().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^\w.\-]+", "_", display_name(path.name))[:80] or default
    target = target_dir / f"{stamp}_{safe}"
    n = 1
    while target.exists() or target.is_symlink():
        target = target_dir / f"{stamp}_{n}_{safe}"
        n += 1
    os.rename(path, target)  # the home is one file system: the quarantine is beside the inbox
    return target


def misshapen(settings: Settings, pole_ids) -> list[Path]:
    """Inbox entries in the wrong shape, which stop folders from being made: `inbox` itself,
    a registered pole's folder or its `retours/` being a file (or anything but a folder).
    Symbolic links are left to the scan (moved aside, never followed)."""
    found = []
    paths = [settings.inbox]
    for pole_id in pole_ids:
        paths += [settings.inbox / pole_id, settings.inbox / pole_id / FEEDBACK_DIR]
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:  # missing (made later), or its parent is itself misshapen
            continue
        if not stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            found.append(path)
    return found


def ensure_pole_folders(settings: Settings, pole_ids) -> list[tuple[str, str]]:
    """Make each registered pole's inbox and `retours/` folders → those that could not be
    made (pole id, reason): one pole's folder never stops the others'."""
    failed = []
    try:
        settings.inbox.mkdir(parents=True, exist_ok=True)  # the inbox itself is ours
    except OSError as exc:
        return [(pole_id, exc.strerror or type(exc).__name__) for pole_id in pole_ids]
    for pole_id in pole_ids:
        try:  # never through a link the pole put in place of its folder or its retours/
            with fsafe.open_dir(settings.inbox, pole_id, FEEDBACK_DIR, create=True):
                pass
        except fsafe.UnsafePath as exc:
            failed.append((pole_id, str(exc)))
        except OSError as exc:
            failed.append((pole_id, exc.strerror or type(exc).__name__))
    return failed
