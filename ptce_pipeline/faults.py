"""Fault injection for tests: `PTCE_FAULT=<point>` makes the process kill itself (SIGKILL) or
raise an OSError(ENOSPC) at that point. Off unless the environment variable is set."""

from __future__ import annotations

import errno
import os
import signal


def fault_point(settings, name: str) -> None:
    fault = getattr(settings, "fault", None)
    if not fault:
        return
    kind, _, point = fault.partition(":")
    if point != name:
        return
    if kind == "oserror-once":
        marker = os.path.join(
            os.environ.get("PTCE_FAULT_DIR", "/tmp"), f"ptce-fault-{os.getpid()}-{point}"
        )
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise OSError(errno.EBUSY, "Device or resource busy (fault injection)")
        return
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "enospc":
        raise OSError(errno.ENOSPC, "No space left on device (fault injection)")
    elif kind == "error":
        raise RuntimeError(f"fault injection at {name}")
