"""Prefect runs quietly and offline: set its environment before it is imported.

Prefect's state lives in `<home>/.prefect` (or PTCE_PREFECT_HOME, or PREFECT_HOME when the
user set it). Telemetry is off; Prefect's own log lines stay out of the console (they remain
in Prefect's database and UI); the temporary server's shutdown noise is silenced.
"""

from __future__ import annotations

import os

from .config import Settings


def configure(settings: Settings, *, verbose: bool = False) -> None:
    env = os.environ
    if "PREFECT_HOME" not in env or env.get("PTCE_PREFECT_HOME_FROM_PTCE") == "1":
        env["PREFECT_HOME"] = str(settings.prefect_dir)
        env["PTCE_PREFECT_HOME_FROM_PTCE"] = "1"
    settings.prefect_dir.mkdir(parents=True, exist_ok=True)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    env.setdefault("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "false")
    if not verbose:
        env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL", "CRITICAL")
        env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL", "CRITICAL")
    if not env.get("PREFECT_API_URL"):
        # the temporary server: no UI to build, and its shutdown tracebacks are noise
        env.setdefault("PREFECT_SERVER_UI_ENABLED", "false")
        env.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
