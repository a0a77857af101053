"""`ptce serve`: two scheduled deployments on a real local Prefect server (the temporary
server runs no scheduler), started as a child process and stopped on exit."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from .config import Settings
from .prefect_env import configure


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _wait_healthy(url: str, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(Exception),
            urllib.request.urlopen(f"{url}/health", timeout=2) as resp,
        ):
            if resp.status == 200:
                return True
        time.sleep(0.5)
    return False


def serve(
    settings: Settings,
    *,
    ingest_cron: str,
    publish_cron: str,
    port: int = 4200,
    ingest_interval: float | None = None,
) -> int:
    configure(settings)
    env = os.environ
    server = None
    if not env.get("PREFECT_API_URL"):
        from .errors import ConfigError

        if not _port_free(port):
            raise ConfigError(
                f"Le port {port} est déjà utilisé : choisissez-en un autre avec --port."
            )
        env["PREFECT_SERVER_LOGGING_LEVEL"] = "WARNING"
        env.pop("PREFECT_SERVER_UI_ENABLED", None)
        log = open(settings.prefect_dir / "serveur.log", "ab")  # noqa: SIM115 - the server's whole life
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        if not _wait_healthy(url):
            _stop(server)
            raise ConfigError(
                f"Le serveur Prefect local n'a pas démarré (voir {settings.prefect_dir / 'serveur.log'})."
            )
        env["PREFECT_API_URL"] = f"{url}/api"
        print(f"Serveur Prefect local : {url} (interface web : {url})", flush=True)
    try:
        from prefect import serve as prefect_serve
        from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
        from prefect.schedules import Cron, Interval

        from .flows.ingest import ingest_inbox
        from .flows.publish import publish_national_tables

        limit = ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        )
        home = str(settings.home)
        ingest_schedule = (
            Interval(ingest_interval, timezone="Europe/Paris")
            if ingest_interval
            else Cron(ingest_cron, timezone="Europe/Paris")
        )
        deployments = [
            ingest_inbox.to_deployment(
                name="ptce-ingest",
                schedules=[ingest_schedule],
                concurrency_limit=limit,
                parameters={"home": home, "settle": settings.settle_seconds},
            ),
            publish_national_tables.to_deployment(
                name="ptce-publish",
                schedules=[Cron(publish_cron, timezone="Europe/Paris")],
                concurrency_limit=limit,
                parameters={"home": home},
            ),
        ]
        print(
            "Planification active : ingestion « ptce-ingest » et publication « ptce-publish » "
            "(Ctrl+C pour arrêter).",
            flush=True,
        )
        prefect_serve(*deployments, print_starting_message=False)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            _stop(server)
    print("Planification arrêtée.", flush=True)
    return 0


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
