"""Asking a running `ptce serve` for an ingestion now (the portal, after an upload), instead of
waiting for the next scheduled run. Prefect's REST API over the standard library: the portal
never imports Prefect. A serve that is not running, or that does not answer after a few tries,
is not an error: the upload is taken by the next scheduled run (or by a run going on,
which looks at the inbox again before it commits)."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

from ptce_pipeline.config import Settings
from ptce_pipeline.orchestration.prefect_env import serve_api

INGEST_DEPLOYMENT = ("ingest-inbox", "ptce-ingest")  # as `serve.deployments` names it
TIMEOUT = 5.0  # per call; the portal asks from a background thread, never while a pole waits
TRIES = 3


def _call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
        return json.loads(resp.read() or b"{}")


def request_ingest(settings: Settings) -> bool:
    """Create a run of the `ptce-ingest` deployment on this home's running `ptce serve`
    → whether one was asked for. Its deployment's concurrency limit keeps it to one at a
    time; a run already going looks at the inbox again before it commits."""
    flow, name = (urllib.parse.quote(p, safe="") for p in INGEST_DEPLOYMENT)
    for attempt in range(TRIES):  # a busy server answers late: ask again, a little later
        if attempt:
            time.sleep(2.0 * attempt)
        api = serve_api(settings, timeout=TIMEOUT)
        if api is None:
            continue
        try:
            deployment = _call(f"{api}/deployments/name/{flow}/{name}")
            _call(f"{api}/deployments/{deployment['id']}/create_flow_run", {"tags": ["portail"]})
        except (OSError, ValueError, KeyError):
            continue
        return True
    return False
