"""National tables (great-tables HTML site with a fiche per pole, Excel, CSV, Parquet), built
from the analysts' snapshot — which holds no personal data — and swapped into place in one
step. `publish(settings, periods)` is the one entry point."""

from .site import PublishResult, publish

__all__ = ["PublishResult", "publish"]
