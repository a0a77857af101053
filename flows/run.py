"""`run-pipeline`: ingestion then publication, in one flow run (one temporary server)."""

from __future__ import annotations

from prefect import flow

from ptce_pipeline.errors import describe_error

from .ingest import ingest_inbox
from .publish import publish_national_tables


def _data(state):
    """The data a subflow returned, whatever its final state (None for an exception)."""
    if state.is_cancelled():  # the warehouse was busy: the state carries the message
        return {"busy": state.message}
    result = state.result(raise_on_failure=False)
    return result


@flow(name="run-pipeline", log_prints=False)
def run_pipeline(
    home: str | None = None, settle: float | None = None, periods: list[int] | None = None
) -> dict:
    ingest_state = ingest_inbox(home=home, settle=settle, return_state=True)
    ingest = _data(ingest_state)
    if isinstance(ingest, BaseException):
        raise ingest  # could not run at all (corrupt warehouse, configuration): say so
    publish_state = publish_national_tables(home=home, periods=periods, return_state=True)
    publication = _data(publish_state)
    if isinstance(publication, BaseException):
        publication = {"error": describe_error(publication)}
    return {
        "ingest": ingest,
        "ingest_failed": ingest_state.is_failed(),
        "publication": publication,
        "publication_failed": publish_state.is_failed(),
    }
