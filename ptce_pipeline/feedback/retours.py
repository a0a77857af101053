"""Where a pole's feedback goes and how it is written: the annotated copy and the receipt of
each file, under `inbox/<pole>/retours/`, named after the decision time and the pole's file
name, each written atomically."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from ptce_pipeline.config import FEEDBACK_DIR

PARIS = ZoneInfo("Europe/Paris")


def safe_stem(name: str) -> str:
    stem = os.path.splitext(os.path.basename(name))[0]
    stem = re.sub(r"[^\w.\- ]+", "_", stem, flags=re.UNICODE).strip(" ._") or "classeur"
    return stem[:80]


def feedback_paths(
    folder_path: Path, original_name: str, decided_at: dt.datetime, seq: int
) -> dict[str, Path]:
    stamp = decided_at.astimezone(PARIS).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}_{safe_stem(original_name)}"
    retours = folder_path / FEEDBACK_DIR
    return {"annotated": retours / f"{base}_annote.xlsx", "receipt": retours / f"{base}_recu.html"}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_feedback(
    *,
    folder_path: Path,
    paths: dict[str, Path],
    annotated: bytes | None,
    receipt: str,
) -> dict[str, Path | None]:
    """Write the annotated copy (if one was built: `feedback.copies`) and the receipt."""
    written: dict[str, Path | None] = {"annotated": None, "receipt": None}
    if annotated is not None:
        _write_atomic(paths["annotated"], annotated)
        written["annotated"] = paths["annotated"]
    _write_atomic(paths["receipt"], receipt.encode("utf-8"))
    written["receipt"] = paths["receipt"]
    return written
