"""Fault injection for tests: `PTCE_FAULT=<kind>:<point>` makes the process fail at that point.
Off unless the environment variable is set (read once by `config.load_settings`, into
`Settings.fault` and `Settings.fault_dir`, and passed down).

Kinds:
- `kill`: SIGKILL this process (nothing runs after: no `finally`, no hook, no flush).
- `enospc`: raise OSError(ENOSPC), as a full disk would, there (every time from then on).
- `error`: raise RuntimeError (a bug of ours), there (every time from then on).
- `oserror-once`, `oserror-<n>`: raise OSError(EBUSY) the first time (first n times) this
  process reaches the point, then let it pass: a transient failure that a retry cures.
- `pause`: create `<dir>/ptce-fault-reached-<point>`, then wait (at most 10 minutes) until
  `<dir>/ptce-fault-release-<point>` exists: lets a test act while a run is held at a point.
- `hang:<file prefix>` (no point): a reader worker sleeps on that file (see `sandbox`).

A point may end with `@<n>`: the fault fires the n-th time this process reaches it (from the
n-th time on for `enospc` and `error`; e.g. `kill:during_feedback@2` lets one file's feedback
be written, then kills). `<dir>` is
PTCE_FAULT_DIR (`Settings.fault_dir`; default: the system temporary folder). Points are listed in docs/guarantees.md
("Faults"); `read:<file name>` is the read of one inbox file.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import tempfile
import time
from pathlib import Path

PAUSE_LIMIT_S = 600.0
_counts: dict[str, int] = {}


def fault_dir(directory: Path | None = None) -> Path:
    """Where `pause` markers go: `Settings.fault_dir`, else the system temporary folder."""
    return Path(directory) if directory else Path(tempfile.gettempdir())


def _safe(point: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", point)[:120]


def reached_marker(point: str, directory: Path | None = None) -> Path:
    return fault_dir(directory) / f"ptce-fault-reached-{_safe(point)}"


def release_marker(point: str, directory: Path | None = None) -> Path:
    return fault_dir(directory) / f"ptce-fault-release-{_safe(point)}"


def fault_point(settings, name: str) -> None:
    fault = getattr(settings, "fault", None)
    if not fault:
        return
    kind, _, point = fault.partition(":")
    nth = 1
    base, at, count = point.rpartition("@")
    if at and count.isdigit():
        point, nth = base, int(count)
    if point != name:
        return
    reached = _counts[point] = _counts.get(point, 0) + 1
    if kind.startswith("oserror-"):
        times = 1 if kind == "oserror-once" else int(kind.removeprefix("oserror-") or 1)
        if reached <= times:
            raise OSError(errno.EBUSY, "Device or resource busy (fault injection)")
    elif kind in ("enospc", "error"):  # from the n-th time on: a full disk, a bug, persist
        if reached >= nth and kind == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device (fault injection)")
        if reached >= nth:
            raise RuntimeError(f"fault injection at {name}")
    elif reached != nth:
        return
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "pause":
        _pause(point, getattr(settings, "fault_dir", None))


def _pause(point: str, directory: Path | None) -> None:
    reached_marker(point, directory).write_text(str(os.getpid()))
    release = release_marker(point, directory)
    deadline = time.monotonic() + PAUSE_LIMIT_S
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
