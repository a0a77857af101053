"""`ptce serve`: three scheduled deployments on a real local Prefect server (the temporary
server runs no scheduler), started as a child process and stopped on exit.

- `ptce-ingest` (flow `ingest-inbox`), `ptce-publish` (flow `publish-national-tables`) and
  `ptce-reminders` (flow `remind-poles`, every day at 09:00: reminders, weekly digest), cron
  schedules in the Europe/Paris timezone, each with a deployment concurrency limit of 1
  that cancels a new run while one is running (CANCEL_NEW); the flows also take the OS lock
  of the warehouse, so a CLI run beside a scheduled one is covered too.
- The server is ours unless PREFECT_API_URL points at one: it logs to
  `<prefect home>/serveur.log`, its pid is in `serveur.pid` and its API URL in `serveur.url`
  (CLI runs of the same home use it: `prefect_env.serve_api`), and it dies with `ptce serve`
  (parent-death signal) even when `ptce serve` itself is killed (the files then stay, stale:
  a CLI run checks the pid and the server before trusting them).
- A run left Running or Pending by a `ptce serve` that was killed would hold the deployment's
  concurrency slot for ever (every later run cancelled): at start-up, such runs of our three
  deployments are marked Crashed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.orchestration.prefect_env import (
    SERVE_PID,
    SERVE_URL,
    configure,
    spawn_quiet,
    stop_process_group,
    wait_healthy,
    write_serve_url,
)
from ptce_pipeline.orchestration.trigger import INGEST_DEPLOYMENT

TIMEZONE = "Europe/Paris"
INGEST = INGEST_DEPLOYMENT
PUBLISH = ("publish-national-tables", "ptce-publish")
REMIND = ("remind-poles", "ptce-reminders")
REMIND_CRON = "0 9 * * *"  # every day at 09:00, Paris time (the digest goes on its weekday)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def start_server(settings: Settings, port: int) -> subprocess.Popen:
    """`prefect server start` on 127.0.0.1:port (its database in the Prefect home)."""
    if not _port_free(port):
        raise ConfigError(f"Le port {port} est déjà utilisé : choisissez-en un autre avec --port.")
    # Prefect's own environment for the child server process (ours reach it as settings)
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL",)}
    env["PREFECT_SERVER_LOGGING_LEVEL"] = env.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    env.pop("PREFECT_SERVER_UI_ENABLED", None)  # the UI is the point of a real server
    env.pop("PREFECT_LOGGING_SERVER_LEVEL", None)
    log_path = settings.prefect_dir / "serveur.log"
    args = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    server = spawn_quiet([*args, "--port", str(port), "--analytics-off"], log_path, env)
    (settings.prefect_dir / SERVE_PID).write_text(str(server.pid))
    if not wait_healthy(f"http://127.0.0.1:{port}", 120.0, server):
        stop_process_group(server)
        raise ConfigError(f"Le serveur Prefect local n'a pas démarré (voir {log_path}).")
    write_serve_url(settings, f"http://127.0.0.1:{port}/api")  # CLI runs use this server
    return server


def release_orphans(message: str) -> int:
    """Mark Crashed the runs of our deployments left Running/Pending by a killed `ptce serve`
    (they would hold the concurrency slot for ever) → how many."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    released = 0
    with get_client(sync_client=True) as client:
        ids = []
        for flow_name, name in (INGEST, PUBLISH, REMIND):
            with contextlib.suppress(Exception):
                ids.append(client.read_deployment_by_name(f"{flow_name}/{name}").id)
        if not ids:
            return 0
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                )
            ),
        )
        for run in runs:
            client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            released += 1
    return released


def deployments(
    settings: Settings,
    *,
    ingest_cron: str,
    publish_cron: str,
    ingest_interval: float | None = None,
) -> list:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval

    from ptce_pipeline.flows.ingest import ingest_inbox
    from ptce_pipeline.flows.publish import publish_national_tables
    from ptce_pipeline.flows.remind import remind_poles

    limit = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    home = str(settings.home)
    ingest_schedule = (
        Interval(ingest_interval, timezone=TIMEZONE)
        if ingest_interval
        else Cron(ingest_cron, timezone=TIMEZONE)
    )
    return [
        ingest_inbox.to_deployment(
            name=INGEST[1],
            schedules=[ingest_schedule],
            concurrency_limit=limit,
            parameters={"home": home, "settle": settings.settle_seconds},
            description="Ingestion des classeurs déposés (ptce-pipeline)",
        ),
        publish_national_tables.to_deployment(
            name=PUBLISH[1],
            schedules=[Cron(publish_cron, timezone=TIMEZONE)],
            concurrency_limit=limit,
            parameters={"home": home},
            description="Publication des tableaux nationaux (ptce-pipeline)",
        ),
        remind_poles.to_deployment(
            name=REMIND[1],
            schedules=[Cron(REMIND_CRON, timezone=TIMEZONE)],
            concurrency_limit=limit,
            parameters={"home": home},
            description="Relances des pôles et synthèse hebdomadaire (ptce-pipeline)",
        ),
    ]


def serve(
    settings: Settings,
    *,
    ingest_cron: str,
    publish_cron: str,
    port: int = 4200,
    ingest_interval: float | None = None,
) -> int:
    """One `ptce serve` per home (its own lock): a second one would release the first one's
    running runs as orphans."""
    from ptce_pipeline.errors import WarehouseBusy
    from ptce_pipeline.store.lock import holder, warehouse_lock

    configure(settings)
    path = settings.prefect_dir / "serve.lock"
    try:
        with warehouse_lock(path, what="ptce serve"):
            return _serve(settings, ingest_cron, publish_cron, port, ingest_interval)
    except WarehouseBusy:
        who = holder(path)
        raise WarehouseBusy(
            "Un autre `ptce serve` planifie déjà ce dossier" + (f" ({who})" if who else "") + "."
        ) from None


def _serve(
    settings: Settings,
    ingest_cron: str,
    publish_cron: str,
    port: int,
    ingest_interval: float | None,
) -> int:
    env = os.environ  # Prefect's own PREFECT_API_URL: where this process and its runs report
    server = None
    if not env.get("PREFECT_API_URL"):
        server = start_server(settings, port)
        url = f"http://127.0.0.1:{port}"
        env["PREFECT_API_URL"] = f"{url}/api"
        print(f"Serveur Prefect local : {url} (interface web à cette adresse)", flush=True)
    try:
        from prefect import serve as prefect_serve

        if server is not None:
            released = release_orphans(
                "interrompu : le `ptce serve` qui exécutait ce passage a été arrêté"
            )
            if released:
                print(
                    f"{released} exécution(s) interrompue(s) par un arrêt brutal marquée(s) "
                    "« Crashed » ; le prochain passage reprend le travail.",
                    flush=True,
                )
        deps = deployments(
            settings,
            ingest_cron=ingest_cron,
            publish_cron=publish_cron,
            ingest_interval=ingest_interval,
        )
        every = f"toutes les {ingest_interval:g} s" if ingest_interval else f"« {ingest_cron} »"
        print(
            f"Planification active ({TIMEZONE}) : ingestion « ptce-ingest » {every}, "
            f"publication « ptce-publish » « {publish_cron} », relances « ptce-reminders » "
            f"« {REMIND_CRON} » (Ctrl+C pour arrêter).",
            flush=True,
        )
        prefect_serve(*deps, print_starting_message=False)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            with contextlib.suppress(OSError):  # CLI runs stop coming here
                (settings.prefect_dir / SERVE_URL).unlink()
            stop_process_group(server, grace=15)
            with contextlib.suppress(OSError):
                (settings.prefect_dir / SERVE_PID).unlink()
    print("Planification arrêtée.", flush=True)
    return 0
