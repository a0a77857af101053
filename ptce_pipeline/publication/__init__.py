"""National tables (great-tables HTML site, Excel, CSV, Parquet), built from the analysts'
snapshot — which holds no personal data — and swapped into place in one step."""

from .site import PublishResult, publish

__all__ = ["PublishResult", "publish"]
