"""`publish-national-tables`: rebuild the publications of the periods whose data changed since
their last publication (or the periods asked for)."""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from ptce_pipeline.config import load_settings
from ptce_pipeline.lock import warehouse_lock
from ptce_pipeline.publication import PublishResult, publish


@task(name="publier", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def build(settings, periods: list[int] | None) -> PublishResult:
    return publish(settings, periods)


@flow(name="publish-national-tables", log_prints=False)
def publish_national_tables(home: str | None = None, periods: list[int] | None = None) -> dict:
    settings = load_settings(home=home)
    with warehouse_lock(settings.lock_path):
        result = build(settings, periods)
    lines = ["# Publication des tableaux nationaux", ""]
    lines += [f"- {p} : {result.paths[p]}" for p in result.published] or ["- rien à republier"]
    create_markdown_artifact(
        markdown="\n".join(lines), key="ptce-publication", description="Publications ptce-pipeline"
    )
    return {"published": result.published, "skipped": result.skipped, "paths": result.paths}
