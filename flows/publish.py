"""`publish-national-tables`: rebuild the publications of the periods whose data changed since
their last publication (or the periods asked for)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from ptce_pipeline.config import load_settings
from ptce_pipeline.errors import WarehouseBusy, describe_error
from ptce_pipeline.faults import fault_point
from ptce_pipeline.publication import PublishResult, publish
from ptce_pipeline.store.lock import warehouse_lock

from .ingest import _transient, busy

PUBLICATION_DISK_FULL = (
    "les publications déjà en ligne n'ont pas changé ; relancez `ptce publish` une fois la "
    "place libérée"
)


@task(
    name="publier",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=5,
    retry_condition_fn=_transient,
)
def build(settings, periods: list[int] | None) -> PublishResult:
    return publish(settings, periods)


@flow(name="publish-national-tables", log_prints=False)
def publish_national_tables(home: str | None = None, periods: list[int] | None = None):
    settings = load_settings(home=home)
    try:
        with warehouse_lock(
            settings.lock_path, what="flux publish-national-tables", now=settings.clock()
        ):
            fault_point(settings, "publish_start")
            result = build(settings, periods)
    except WarehouseBusy as exc:
        return busy(exc)
    except OSError as exc:  # a full disk, a folder we cannot write: said in French
        message = describe_error(exc, PUBLICATION_DISK_FULL)
        get_run_logger().error("%s", message)
        return Failed(message=message, data={"error": message})
    lines = ["# Publication des tableaux nationaux", ""]
    lines += [
        f"- {p} : {result.public_paths[p]} (données ouvertes), {result.paths[p]} "
        "(diffusion restreinte)"
        for p in result.published
    ] or ["- rien à republier"]
    create_markdown_artifact(
        markdown="\n".join(lines), key="ptce-publication", description="Publications ptce-pipeline"
    )
    return {
        "published": result.published,
        "skipped": result.skipped,
        "paths": result.paths,
        "public_paths": result.public_paths,
    }
