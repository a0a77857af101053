"""A run of `ingest`, `publish` or `run` with nothing to do, answered without Prefect.

Prefect's import and its temporary server cost seconds; a run that would take no file, finish
nothing, tidy nothing and republish nothing is answered from a cheap look instead
(`ingestion.idle`, `publication.up_to_date`), with the data the flow would have returned, so
the CLI prints exactly what it prints after a flow run. Such a run leaves no Prefect record
(no flow run, no artifact). Any doubt → None, and the flow runs as before. `PTCE_FAST_NOOP=0`
(settings.fast_noop) always runs the flow. The caller holds the warehouse lock."""

from __future__ import annotations

from typing import Any

from ptce_pipeline.config import Settings


def _publication(settings: Settings, periods: list[int] | None) -> dict | None:
    from ptce_pipeline.publication import up_to_date

    if periods:  # periods asked for are always published again
        return None
    try:
        skipped = up_to_date(settings)
    except Exception:  # the flow meets it and says it
        return None
    if skipped is None:
        return None
    return {"published": [], "skipped": skipped, "paths": {}, "public_paths": {}}


def _ingest(settings: Settings) -> dict | None:
    from ptce_pipeline.ingestion.idle import idle_report
    from ptce_pipeline.mail import waiting

    if waiting(settings):  # e-mails to send or to prepare: the flow does it
        return None
    report = idle_report(settings)
    return None if report is None else report.to_dict()


def without_prefect(settings: Settings, name: str, **params: Any) -> Any | None:
    """What the flow `name` (`ingest`, `publish`, `run`) would return when there is nothing
    to do, or None when the flow must run (work, housekeeping, a doubt, a fault point set)."""
    if not settings.fast_noop or settings.fault:
        return None
    if name == "ingest":
        return _ingest(settings)
    if name == "publish":
        return _publication(settings, params.get("periods"))
    if name == "run":
        ingest = _ingest(settings)
        if ingest is None:
            return None
        publication = _publication(settings, params.get("periods"))
        if publication is None:
            return None
        return {
            "ingest": ingest,
            "ingest_failed": False,
            "publication": publication,
            "publication_failed": False,
        }
    return None
