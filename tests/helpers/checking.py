"""Read and validate one workbook in the test process (the reader and the validator the
pipeline runs in its worker processes), → the compact per-file view `ptce check --json` prints."""

from __future__ import annotations

import datetime as dt

from ptce_pipeline.catalogue.registry import Registry
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one
from ptce_pipeline.template import demo
from ptce_pipeline.validation import validate_batch
from ptce_pipeline.validation.model import Context, Item
from ptce_pipeline.validation.report import FileReport

TODAY = dt.date(2025, 6, 1)
REGISTRY = Registry({p.pole_id: p for p in demo.registry()}, "tests")


def read_and_validate(
    ref,
    data: bytes,
    *,
    folder: str | None = "PTCE-001",
    registry: Registry | None = REGISTRY,
    previous=None,
    today: dt.date = TODAY,
    limits: Limits | None = None,
    outcome=None,
    name: str = "classeur.xlsx",
) -> FileReport:
    """`outcome` (a reader outcome already at hand, e.g. from a ReaderPool) skips the reading."""
    outcome = outcome if outcome is not None else read_one(data, ref, limits or Limits())
    if outcome.content is None:
        return FileReport.of(name, list(outcome.issues))
    ctx = Context(ref=ref, registry=registry, today=today, previous=previous)
    return FileReport.of(name, validate_batch([Item(outcome.content, folder)], ctx)[0])
