"""The archive and its append-only journal: the source of truth the warehouse derives from.

Every received file is stored under `warehouse/archive/<sha256><ext>` (never overwritten,
never deleted) and a `delivery` line is appended to `journal.jsonl` before the warehouse is
touched; every decision and correction is journaled too, with the versions (hashes) of the
référentiel, registry and campaigns file in force — those files are archived by hash under
`warehouse/archive/config/`. `ptce rebuild` replays the journal.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ptce_pipeline.config import Settings

_EXT_RE = re.compile(r"^\.[A-Za-z0-9]{1,8}$")
CHUNK = 1 << 20  # files are hashed and copied this many bytes at a time, never held whole
_INCOMING = ".incoming"  # prefix of a file being copied into the archive


def display_name(name: str) -> str:
    """A file name as people see it: bytes that are not UTF-8 (an old Windows or Mac share)
    shown as U+FFFD. Never raises."""
    try:
        return os.fsencode(name).decode("utf-8", "replace")
    except (UnicodeError, TypeError):
        return str(name).encode("utf-8", "replace").decode("utf-8")


def name_fields(name: str) -> dict[str, str]:
    """The journal fields for a file name: `name` in its display form, and `name_b64`, its
    exact bytes, when they are not valid UTF-8."""
    shown = display_name(name)
    try:
        raw = os.fsencode(name)
    except UnicodeError:
        raw = name.encode("utf-8", "surrogatepass")
    if raw == shown.encode("utf-8"):
        return {"name": shown}
    return {"name": shown, "name_b64": base64.b64encode(raw).decode("ascii")}


def safe_extension(name: str) -> str:
    ext = os.path.splitext(name)[1]
    return ext.lower() if _EXT_RE.match(ext) else ""


def archive_name(sha256: str, original_name: str) -> str:
    return f"{sha256}{safe_extension(original_name)}"


def store(
    settings: Settings, data: bytes, sha256: str, original_name: str, *, sync: bool = False
) -> Path:
    """Store bytes in the archive under their hash (no-op when already there)."""
    archive = settings.archive_dir
    target = archive / archive_name(sha256, original_name)
    if target.exists() and target.stat().st_size == len(data):
        return target
    archive.mkdir(parents=True, exist_ok=True)
    tmp = archive / f".{sha256}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def store_stream(
    settings: Settings,
    fd: int,
    original_name: str,
    *,
    unchanged: Callable[[int], bool] = lambda _size: True,
) -> tuple[str, int, Path] | None:
    """Copy an open file into the archive under its hash, `CHUNK` bytes at a time (never the
    whole file in memory) → (sha256, size, path); None, and nothing kept, when `unchanged(size)`
    says the file changed while it was copied."""
    archive = settings.archive_dir
    archive.mkdir(parents=True, exist_ok=True)
    tmp = archive / f"{_INCOMING}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    digest, size = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as out:
            while chunk := os.read(fd, CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if not unchanged(size):
            tmp.unlink()
            return None
        sha = digest.hexdigest()
        target = archive / archive_name(sha, original_name)
        if target.exists() and target.stat().st_size == size:
            tmp.unlink()
        else:
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return sha, size, target


def sweep_incoming(settings: Settings) -> None:
    """Remove the partial copies a killed run left in the archive (the caller holds the lock)."""
    if settings.archive_dir.is_dir():
        for tmp in settings.archive_dir.glob(f"{_INCOMING}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def archived_path(settings: Settings, sha256: str, original_name: str) -> Path:
    return settings.archive_dir / archive_name(sha256, original_name)


def sync_archive(settings: Settings) -> None:
    """Make the archive durable before the journal records what it holds."""
    os.sync()


def archive_config(settings: Settings, kind: str, data: bytes, suffix: str) -> str:
    """Archive a configuration file (référentiel, registry, campaigns) by hash → its hash."""
    sha = hashlib.sha256(data).hexdigest()
    folder = settings.archive_dir / "config"
    target = folder / f"{kind}-{sha}{suffix}"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{kind}-{sha}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return sha


def config_file(settings: Settings, kind: str, sha: str) -> Path | None:
    folder = settings.archive_dir / "config"
    for candidate in folder.glob(f"{kind}-{sha}.*"):
        return candidate
    return None


class Journal:
    """Append-only JSON-lines journal with a monotonically increasing `seq`."""

    MODE = 0o644  # of a new journal file (the outbox's, personal data, is 0o600)

    def __init__(self, settings: Settings):
        self.path = settings.journal_path
        self._next: int | None = None
        self._pending: list[str] = []

    def next_seq(self) -> int:
        if self._next is None:
            last = 0
            for record in self.read():
                last = max(last, int(record.get("seq", 0)))
            self._next = last + 1
        return self._next

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        seq = self.next_seq()
        record = {"seq": seq, **record}
        self._next = seq + 1
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a name's undecodable byte): escape it
            line = json.dumps(record, ensure_ascii=True, sort_keys=True, default=str)
        self._pending.append(line)
        return record

    def flush(self) -> None:
        if not self._pending:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(self._pending) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, self.MODE)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._pending.clear()

    def discard(self) -> None:
        """Forget records added but not flushed (a failed step must not journal them)."""
        self._pending.clear()

    def read(self, *, after: int = 0) -> Iterator[dict[str, Any]]:
        """Records with seq > `after`. A torn last line (crash while appending) is skipped."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # torn write at the end: never acknowledged, never applied
                with contextlib.suppress(ValueError):
                    record = json.loads(raw)
                    if int(record.get("seq", 0)) > after:
                        yield record

    def tail_seq(self) -> int | None:
        """The `seq` of the last record, read from the end of the file only (records are
        appended with increasing numbers, so it is `next_seq() - 1`): 0 for no journal; None
        when the tail is torn or not a record (`next_seq` and `repair_tail` must look)."""
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                if size == 0:
                    return 0
                block = 1 << 16
                while True:
                    start = max(0, size - block)
                    fh.seek(start)
                    data = fh.read(size - start)
                    if not data.endswith(b"\n"):
                        return None
                    cut = data.rfind(b"\n", 0, len(data) - 1)
                    if cut >= 0 or start == 0:
                        return int(json.loads(data[cut + 1 :])["seq"])
                    block *= 4
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def repair_tail(self) -> None:
        """Cut a torn last line so later appends stay well-formed."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                fh.truncate(cut)
