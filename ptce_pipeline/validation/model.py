"""What validation works on: the items of a batch and the context they are checked in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ptce_pipeline.catalogue import Campaigns, Referentiel, Registry
from ptce_pipeline.content import Content


@dataclass
class Context:
    ref: Referentiel
    registry: Registry | None = None
    campaigns: Campaigns | None = None
    today: dt.date = field(default_factory=dt.date.today)
    # (pole_id, period) → (previous period, {indicator code: value}) or None
    previous: Callable[[str, int], tuple[int, dict[str, float]] | None] | None = None


@dataclass
class Item:
    content: Content
    folder: str | None = None  # the inbox folder it was dropped in (None: folder rule skipped)
