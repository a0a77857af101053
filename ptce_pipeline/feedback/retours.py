"""Where a pole's feedback goes and how it is written: the annotated copy and the receipt of
each file, under `inbox/<pole>/retours/`, named after the decision time, the delivery number
and the pole's file name (the table of every name is in docs/conventions.md).

This is the one writer of `retours/`. A pole controls that folder, so it writes through
`fsafe`: a `retours` (or a pole folder) that is a symbolic link or a file is refused, never
followed (`fsafe.UnsafePath`), and nothing already there is overwritten: a name holding the
same bytes is a replay of the same decision (kept as is); a name taken by anything else
moves the pair to the next free suffix (`…_2_recu.html`, `…_2_annote.xlsx`), so the pole
still gets its feedback and nothing it holds is lost."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from ptce_pipeline import fsafe
from ptce_pipeline.config import FEEDBACK_DIR

PARIS = ZoneInfo("Europe/Paris")
RECEIPT_SUFFIX, ANNOTATED_SUFFIX = "_recu.html", "_annote.xlsx"
NOTICE_SUFFIX = "_relecture.html"  # the national team's review decision (`feedback.review_notice`)
MAX_SUFFIX = 100  # names tried for one pair before giving up (a folder filled on purpose)


def safe_stem(name: str) -> str:
    stem = os.path.splitext(os.path.basename(name))[0]
    stem = re.sub(r"[^\w.\- ]+", "_", stem, flags=re.UNICODE).strip(" ._") or "classeur"
    return stem[:80]


def _base(original_name: str, decided_at: dt.datetime, seq: int) -> str:
    stamp = decided_at.astimezone(PARIS).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}_{int(seq)}_{safe_stem(original_name)}"


def feedback_paths(
    folder_path: Path, original_name: str, decided_at: dt.datetime, seq: int
) -> dict[str, Path]:
    """`<date-heure>_<n° de dépôt>_<nom>_recu.html` and `…_annote.xlsx`: unique per delivery
    (the number), and per decision of it (the time)."""
    base = _base(original_name, decided_at, seq)
    retours = folder_path / FEEDBACK_DIR
    return {
        "annotated": retours / f"{base}{ANNOTATED_SUFFIX}",
        "receipt": retours / f"{base}{RECEIPT_SUFFIX}",
    }


def _suffixed(path: Path, suffix: str, n: int) -> str:
    return path.name if n == 1 else f"{path.name.removesuffix(suffix)}_{n}{suffix}"


def write_feedback(
    *,
    folder_path: Path,
    paths: dict[str, Path],
    annotated: bytes | None,
    receipt: str | Callable[[str | None], str],
) -> dict[str, Path | None]:
    """Write the annotated copy (if one was built: `feedback.copies`) and the receipt of one
    decision into `folder_path/retours/`. `receipt`: the HTML, or a function of the annotated
    copy's name (None without one), so that a suffixed name is the one the receipt points to.
    Raises `fsafe.UnsafePath` when the pole's folder or its `retours` is not a plain folder;
    nothing is written then."""
    data = annotated
    render = receipt if callable(receipt) else (lambda _name: receipt)
    retours = paths["receipt"].parent
    with fsafe.open_dir(folder_path.parent, folder_path.name, FEEDBACK_DIR, create=True) as fd:
        for n in range(1, MAX_SUFFIX + 1):
            copy_name = _suffixed(paths["annotated"], ANNOTATED_SUFFIX, n)
            html = render(copy_name if data is not None else None).encode("utf-8")
            names = [(copy_name, data)] if data is not None else []
            names.append((_suffixed(paths["receipt"], RECEIPT_SUFFIX, n), html))
            if any(fsafe.holds(fd, name, content) is False for name, content in names):
                continue  # taken by something else: the next suffix, for both
            try:
                for name, content in names:
                    fsafe.write_new(fd, name, content)
            except FileExistsError:
                continue  # taken between the look and the write
            return {
                "annotated": retours / copy_name if data is not None else None,
                "receipt": retours / names[-1][0],
            }
    raise FileExistsError(f"aucun nom libre dans « {FEEDBACK_DIR} » pour {paths['receipt'].name}")


def write_notice(
    folder_path: Path, original_name: str, decided_at: dt.datetime, seq: int, html: str
) -> Path:
    """Write a review notice `<date-heure>_<n° de dépôt>_<nom>_relecture.html` into the pole's
    `retours/`, by the same rules as the receipts (never through a link, never over another
    file: the next free suffix). → the path written (or already holding these bytes)."""
    name = f"{_base(original_name, decided_at, seq)}{NOTICE_SUFFIX}"
    data = html.encode("utf-8")
    retours = folder_path / FEEDBACK_DIR
    with fsafe.open_dir(folder_path.parent, folder_path.name, FEEDBACK_DIR, create=True) as fd:
        for n in range(1, MAX_SUFFIX + 1):
            candidate = name if n == 1 else f"{name.removesuffix(NOTICE_SUFFIX)}_{n}{NOTICE_SUFFIX}"
            held = fsafe.holds(fd, candidate, data)
            if held is True:
                return retours / candidate
            if held is False:
                continue
            try:
                fsafe.write_new(fd, candidate, data)
            except FileExistsError:
                continue
            return retours / candidate
    raise FileExistsError(f"aucun nom libre dans « {FEEDBACK_DIR} » pour {name}")
