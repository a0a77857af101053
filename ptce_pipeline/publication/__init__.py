"""National tables (great-tables HTML site with a fiche per pole, Excel, CSV, Parquet), built
from the analysts' snapshot — which holds no personal data — and swapped into place in one
step. `publish(settings, periods)` is the one entry point; `up_to_date(settings)` tells,
without pandas nor great-tables, that it would publish nothing (`state`).

`publish` and `PublishResult` are loaded on first use, so that importing `state` stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .state import up_to_date

if TYPE_CHECKING:
    from .site import PublishResult, publish

__all__ = ["PublishResult", "publish", "up_to_date"]


def __getattr__(name: str):
    if name in ("PublishResult", "publish"):
        from . import site

        return getattr(site, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
