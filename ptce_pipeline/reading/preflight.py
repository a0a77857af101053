"""Bounds checked before any spreadsheet parser sees a file: `run_preflight` is the entry point.

python-calamine allocates the dense grid up to the farthest value cell and aborts the whole
process when that allocation fails, and XML parsers can be fed bombs. So every archive first
goes through the zip guard (`zipguard`: streamed members, byte budgets, XML prologues), then the
format's own pre-flight (`preflight_xlsx`, `preflight_ods`) measures the real extent of every
sheet from the cells that carry a value. What they learn (`Preflight`, in `preflight_model`) is
kept for the reader, so percent formats, formulas without cached values, error cells and merged
ranges are found without a second unzip.
"""

from __future__ import annotations

from ptce_pipeline.config import Limits
from ptce_pipeline.reading.preflight_model import Preflight, PreflightRefusal, SheetScan
from ptce_pipeline.reading.preflight_ods import preflight_ods
from ptce_pipeline.reading.preflight_xlsx import preflight_xlsx
from ptce_pipeline.reading.zipguard import mib

__all__ = ["Preflight", "PreflightRefusal", "SheetScan", "run_preflight"]


def run_preflight(data: bytes, fmt: str, limits: Limits) -> Preflight:
    if len(data) > limits.max_file_bytes:
        raise PreflightRefusal(
            "too-large",
            f"fichier de {mib(len(data))} (au plus {mib(limits.max_file_bytes)})",
        )
    if fmt == "ods":
        return preflight_ods(data, limits)
    return preflight_xlsx(data, limits, fmt)
