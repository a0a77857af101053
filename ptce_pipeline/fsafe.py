"""Safe file-system operations in a folder a pole controls: nothing is written, renamed or
removed through a symbolic link, and nothing already there is overwritten.

A pole may replace anything under its `inbox/<pole>/` at any moment, including while a run
works in it. So every operation goes through directory file descriptors:

- `open_dir(base, "PTCE-001", "retours")` opens each folder below `base` (the inbox, which is
  the national team's) with `O_DIRECTORY | O_NOFOLLOW`, relative to the descriptor of the one
  above: a link (or a file) in place of a folder is refused, never followed. Once open, the
  descriptor keeps naming the folder that was checked, whatever is swapped in afterwards.
- `write_new(fd, name, data)` writes a temporary file with `O_CREAT | O_EXCL | O_NOFOLLOW`
  in that folder, fsyncs it, then gives it its name with a hard link (`linkat`), which fails
  if the name is taken (a link included): a file is never overwritten. A name already holding
  exactly these bytes counts as written (a replay of the same decision).
- `unlink_same(fd, name, ino, size, mtime_ns)` removes a file only if the name still holds
  that very file (`fstatat` without following links, then `unlinkat`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
TEMP_PREFIX, TEMP_SUFFIX = ".", ".tmp"  # `.<name>.<pid>.tmp`: swept by the next run


class UnsafePath(OSError):
    """A folder a pole controls is not a plain folder (a symbolic link, a file): refused, not
    followed. `str()` is one French line for the run report."""

    def __init__(self, name: str, what: str):
        super().__init__(errno.ELOOP, f"« {name} » est {what} : refusé, non suivi")
        self.name, self.what = name, what

    def __str__(self) -> str:
        return self.strerror or ""


def _component(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a single path component: {name!r}")
    return name


def _kind(dir_fd: int, name: str) -> str:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return "introuvable"
    if stat.S_ISLNK(st.st_mode):
        return "un lien symbolique"
    if stat.S_ISDIR(st.st_mode):
        return "un dossier"
    return "un fichier" if stat.S_ISREG(st.st_mode) else "un objet spécial"


def _open_child(dir_fd: int, name: str, *, create: bool) -> int:
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, dir_fd=dir_fd)  # mkdirat never follows a link in its last part
    try:
        return os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise UnsafePath(name, _kind(dir_fd, name)) from exc
        raise


@contextlib.contextmanager
def open_dir(base: Path, *names: str, create: bool = False) -> Iterator[int]:
    """A descriptor on `base/<names...>`, each name opened without following a link, relative
    to the folder above (`create`: make the missing ones). `base` itself is ours: followed."""
    fd = os.open(base, _DIR_FLAGS)
    try:
        for name in names:
            child = _open_child(fd, _component(name), create=create)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def holds(dir_fd: int, name: str, data: bytes) -> bool | None:
    """None if `name` is free; True if it is a plain file holding exactly `data`; else False
    (another content, a link, a folder: taken)."""
    try:
        fd = os.open(_component(name), os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError:
        return False  # a link (ELOOP), unreadable…: taken, and not ours to touch
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        seen = bytearray()
        while chunk := os.read(fd, 1 << 20):
            seen += chunk
            if len(seen) > len(data):
                return False
        return bytes(seen) == data
    finally:
        os.close(fd)


def write_new(dir_fd: int, name: str, data: bytes, *, mode: int = 0o644) -> bool:
    """Write `data` as `name` in the folder `dir_fd`, never overwriting: True when written,
    False when the name already held exactly these bytes; FileExistsError when it is taken by
    anything else (another content, a link, a folder)."""
    _component(name)
    found = holds(dir_fd, name, data)
    if found:
        return False
    if found is False:
        raise FileExistsError(errno.EEXIST, f"« {name} » existe déjà", name)
    _write_then(dir_fd, name, data, mode, lambda tmp: _link_no_clobber(dir_fd, tmp, name))
    return True


def replace_file(dir_fd: int, name: str, data: bytes, *, mode: int = 0o644) -> None:
    """Write `data` as `name` in the folder `dir_fd`, replacing what the name held (a file the
    pipeline rewrites, like a pole's fiche): written under a fresh temporary name, then renamed
    over `name` relative to the folder's descriptor, so a link left under `name` is replaced,
    never followed."""
    _component(name)

    def swap(tmp: str) -> None:
        if _kind(dir_fd, name) == "un dossier":
            raise FileExistsError(errno.EEXIST, f"« {name} » est un dossier", name)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)

    _write_then(dir_fd, name, data, mode, swap)


def _write_then(dir_fd: int, name: str, data: bytes, mode: int, place) -> None:
    """Write `data` to a fresh temporary file of the folder (`O_EXCL | O_NOFOLLOW`), fsync it,
    then `place(tmp)` gives it its name; the temporary name never outlives the call."""
    tmp = f"{TEMP_PREFIX}{name}.{os.getpid()}{TEMP_SUFFIX}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp, dir_fd=dir_fd)  # left by a killed run of the same pid: ours
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    fd = os.open(tmp, flags, mode, dir_fd=dir_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        place(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
    with contextlib.suppress(OSError):
        os.fsync(dir_fd)


def _link_no_clobber(dir_fd: int, tmp: str, name: str) -> None:
    """Give `tmp` the name `name` unless it is taken (atomically with `linkat`; on a file
    system without hard links, a rename after a check, the narrowest window there is)."""
    try:
        os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        return
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, f"« {name} » existe déjà", name) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    raise FileExistsError(errno.EEXIST, f"« {name} » existe déjà", name)


def unlink_same(dir_fd: int, name: str, *, ino: int, size: int, mtime_ns: int) -> bool:
    """Remove `name` from the folder `dir_fd` if it is still that very plain file (same inode,
    size and mtime, not a link); True when removed. A name gone already is not an error."""
    try:
        st = os.stat(_component(name), dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if (st.st_ino, st.st_size, st.st_mtime_ns) != (ino, size, mtime_ns):
        return False
    os.unlink(name, dir_fd=dir_fd)
    return True


def sweep_temps(dir_fd: int) -> int:
    """Remove the temporary files `write_new` left in this folder (a killed run): the names
    only, never through a link. Returns how many were removed."""
    removed = 0
    for entry in os.scandir(dir_fd):
        if entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX):
            with contextlib.suppress(OSError):
                os.unlink(entry.name, dir_fd=dir_fd)
                removed += 1
    return removed
