"""What the CLI writes: one safe line at a time on stdout or stderr, and a reader that leaves
early (`ptce status | head`) ends nothing.

A closed pipe is not an error of the command: the verb finishes its work (an `ingest` never
stops half-way because its reader left), the rest of its output is dropped, nothing is said,
no traceback is logged, and the exit code is the verb's own. The stream is pointed at
/dev/null (`os.dup2`) so that neither the next line nor the interpreter's final flush fails
again (the recipe of Python's « Note on SIGPIPE »; SIGPIPE itself stays ignored, so a socket
closed under a Prefect client is still an ordinary error)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import sys
from typing import Any, TextIO

from ptce_pipeline.catalogue import display


def _write(stream: TextIO, text: str) -> None:
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        drop_closed(stream)


def reader_gone(stream: TextIO) -> bool:
    """Whether `stream` is a pipe whose reader has left (or was already dropped here): a
    `BrokenPipeError` from anything else — a socket — is a real error."""
    if stream in _dropped:
        return True
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        poll = select.poll()
        poll.register(stream.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poll.poll(0))
    return False


_dropped: list[TextIO] = []  # streams already pointed at /dev/null


def drop_closed(stream: TextIO) -> None:
    """The reader of `stream` is gone: send what is still buffered, and all that follows, to
    /dev/null."""
    _dropped.append(stream)
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


def out(text: str = "") -> None:
    """One line on stdout. Every line may quote a file name or a cell value: control and
    bidi characters are shown visibly, so nothing from a file drives the terminal or forges a
    line (`catalogue.display`)."""
    _write(sys.stdout, display.terminal(text))


def out_json(data: Any) -> None:
    """`--json`: raw JSON (JSON escapes C0 itself; DEL, C1 and bidi characters too here)."""
    _write(
        sys.stdout,
        display.json_text(json.dumps(data, ensure_ascii=False, indent=2, default=str)),
    )


def err(text: str) -> None:
    _write(sys.stderr, display.terminal(text))
