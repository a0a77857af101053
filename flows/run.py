"""`run-pipeline`: ingestion then publication, in one flow run (one temporary server)."""

from __future__ import annotations

from prefect import flow

from .ingest import ingest_inbox
from .publish import publish_national_tables


@flow(name="run-pipeline", log_prints=False)
def run_pipeline(
    home: str | None = None, settle: float | None = None, periods: list[int] | None = None
) -> dict:
    ingest_state = ingest_inbox(home=home, settle=settle, return_state=True)
    report = ingest_state.result(raise_on_failure=False)
    publication = publish_national_tables(home=home, periods=periods)
    return {"ingest": report, "ingest_failed": ingest_state.is_failed(), "publication": publication}
