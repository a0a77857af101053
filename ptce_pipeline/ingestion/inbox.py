"""Finding new files in the inbox: settle delay, junk ignored silently, symbolic links moved
aside (never followed), `retours/` folders never read.

A file is taken once nothing has changed it for the settle delay (its inode change time, on
this machine's clock); it is then read with its size, mtime and inode checked before and
after, archived under its hash and journaled, and only then removed from the inbox (if it
is still the same file)."""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline import fsafe
from ptce_pipeline.config import FEEDBACK_DIR, Settings

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
    if name.startswith(("~$", ".~lock.", ".", "~")) or low in _IGNORED_NAMES:
        return True
    if low.endswith(_IGNORED_SUFFIXES) or (name.startswith(".~lock") and name.endswith("#")):
        return True
    return bool(re.match(r"^\.?~lock\..*#$", name))


@dataclass(frozen=True)
class Candidate:
    path: Path
    folder: str  # '' for the inbox root
    name: str
    size: int
    mtime_ns: int
    ino: int


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
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        rel = here.relative_to(root)
        parts = rel.parts
        folder = parts[0] if parts else ""
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
            if age < settle_seconds:
                result.waiting.append(full)
                continue
            result.ready.append(
                Candidate(full, folder, name, st.st_size, st.st_mtime_ns, st.st_ino)
            )
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
    target_dir = settings.quarantine_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = settings.clock().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^\w.\-]+", "_", link.name)[:80] or "lien"
    target = target_dir / f"{stamp}_{safe}"
    n = 1
    while target.exists() or target.is_symlink():
        target = target_dir / f"{stamp}_{n}_{safe}"
        n += 1
    os.rename(link, target)
    return target


def ensure_pole_folders(settings: Settings, pole_ids) -> None:
    for pole_id in pole_ids:
        (settings.inbox / pole_id / FEEDBACK_DIR).mkdir(parents=True, exist_ok=True)
