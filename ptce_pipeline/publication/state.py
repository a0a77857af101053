"""What a period's publication rests on, and whether anything changed since it was made:
its data version, the previous period's, the référentiel, the campaigns and the publication
`FORMAT`, compared with what both releases' manifests recorded. Standard library and DuckDB
only, so that a `ptce publish` with nothing to republish answers at once (`up_to_date`)."""

from __future__ import annotations

import contextlib
import hashlib
import json

from ptce_pipeline.catalogue.referentiel import Referentiel
from ptce_pipeline.config import Settings
from ptce_pipeline.store.versions import campaign_rows, period_version, periods_with_data

STATE_KEYS = (
    "format",
    "data_version",
    "previous_data_version",
    "referentiel_sha256",
    "campaigns_sha256",
)
FORMAT = 5  # bump when the layout of a publication changes: every period is published again
AUDIENCE_ROOTS = ("interne", "public")  # `audience.INTERNAL`, `audience.PUBLIC`


def state(con, ref: Referentiel, period: int) -> dict:
    """What a publication rests on: when any of it changes, the period is published again
    (its notes list the closed campaigns, so a campaign closed or reopened counts too)."""
    return {
        "format": FORMAT,
        "data_version": period_version(con, period),
        "previous_data_version": period_version(con, period - 1),
        "referentiel_sha256": ref.sha256,
        "campaigns_sha256": hashlib.sha256(repr(campaign_rows(con)).encode()).hexdigest(),
    }


def published_state(settings: Settings, period: int) -> dict | None:
    """What both releases of a period rest on (None unless both exist and agree)."""
    states = []
    for audience in AUDIENCE_ROOTS:
        path = settings.publications_for(audience) / str(period) / "manifest.json"
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            manifest = json.loads(path.read_text(encoding="utf-8"))
            states.append({k: manifest.get(k) for k in STATE_KEYS})
    if len(states) == 2 and states[0] == states[1]:
        return states[0]
    return None


def up_to_date(settings: Settings) -> list[int] | None:
    """The periods `publish(settings)` would skip when it would publish none and tidy nothing
    (no folder to make, no leftover of an interrupted publication) → None otherwise, or in
    doubt. Reads only; the caller holds the warehouse lock."""
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.store.warehouse import connect

    if not settings.snapshot_db.exists():
        return []  # `publish` has nothing to read: nothing published, nothing skipped
    for audience in AUDIENCE_ROOTS:
        root = settings.publications_for(audience)
        if not root.is_dir() or any(True for _ in root.glob(".tmp-*")):
            return None
        if any(True for _ in root.glob(".old-*")):
            return None
    ref = load_referentiel(settings.referentiel_path)
    con = connect(settings.snapshot_db, read_only=True)
    try:
        periods = periods_with_data(con)
        for period in periods:
            if published_state(settings, period) != state(con, ref, period):
                return None
    finally:
        con.close()
    return periods
