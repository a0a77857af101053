"""`ptce demo`: the whole flow of two campaigns on fictitious data, as a national team and
its poles would live it. The first campaign's workbooks are filled in the plain template,
dropped and ingested; `campaign prepare` then pre-fills each pole's workbook of the second
from its first declaration; the poles type their values of the period into it and drop it;
the `ingest-inbox` flow ingests them; the national team reviews (a realistic mix:
`ingestion.demo_review`); the `publish-national-tables` flow publishes both periods on those
decisions. Both flow runs share one Prefect server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ptce_pipeline.config import Settings


def run_demo(settings: Settings, seed: int, say: Callable[[str], None]) -> tuple[Any, bool]:
    """Run the demo in `settings.home`, saying each step in French → (the data of the flows —
    `ingest`, `publication` — and the review's lines under `review`, whether anything needs
    attention)."""
    from ptce_pipeline.catalogue import load_config, load_referentiel
    from ptce_pipeline.catalogue.registry import PARIS
    from ptce_pipeline.ingestion.demo_review import review_mix
    from ptce_pipeline.ingestion.inbox import ensure_pole_folders
    from ptce_pipeline.ingestion.prepare import prepare_campaign
    from ptce_pipeline.ingestion.run import run_ingest
    from ptce_pipeline.orchestration.prefect_env import prefect_api
    from ptce_pipeline.orchestration.runner import run_flow
    from ptce_pipeline.store.lock import warehouse_lock
    from ptce_pipeline.store.warehouse import create_empty
    from ptce_pipeline.template import demo
    from ptce_pipeline.template.demo_second import second_campaign

    first, last = demo.PERIODS
    with warehouse_lock(settings.lock_path, what="ptce demo", now=settings.clock()):
        ref = load_referentiel(settings.referentiel_path)
        dropped = demo.prepare(settings, ref, seed, periods=(first,))
        cfg = load_config(settings)
        ensure_pole_folders(settings, cfg.registry.poles)
        create_empty(settings)
        say(
            f"{len(cfg.registry.poles)} pôles inscrits, {len(dropped)} classeurs déposés "
            f"(campagne {first})."
        )
        report = run_ingest(settings, settle=0.0)
        for line in report.terminal_lines():
            say(line)
        today = settings.clock().astimezone(PARIS).date()
        deadline = None if last in cfg.campaigns.deadlines else demo.demo_deadlines(today)[last]
        prepared = prepare_campaign(settings, last, deadline)
        say(prepared.lines[1])
        paths = {p.pole_id: p.workbook for p in prepared.poles if p.workbook is not None}
        filled = second_campaign(settings, ref, seed, paths)
        say(
            f"{len(filled)} classeurs pré-remplis complétés par les pôles et déposés "
            f"(campagne {last})."
        )
        with prefect_api(settings):  # one server for both flow runs
            ingest, ingest_failed = run_flow(settings, "ingest", settle=0.0)
            review = review_mix(settings)
            publication, publication_failed = run_flow(settings, "publish")
    data = {
        "ingest": ingest,
        "ingest_failed": ingest_failed,
        "review": review,
        "publication": publication,
    }
    failed = ingest_failed or publication_failed
    attention = failed or prepared.needs_attention or report.needs_attention
    return data, bool(attention)
