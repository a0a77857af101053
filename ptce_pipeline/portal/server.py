"""`ptce portal`: the portal under uvicorn, on 127.0.0.1:8000 by default, behind an HTTPS
reverse proxy in production (docs/exploitation.md: Caddy and nginx). uvicorn's access log is
off (it would record links' tokens); ours (`app.AccessLog`) never does."""

from __future__ import annotations

import logging
import os
import sys
import threading

from ptce_pipeline.config import Settings
from ptce_pipeline.portal.app import create_app


def run_portal(settings: Settings, *, host: str, port: int, proxies: str = "127.0.0.1") -> None:
    import uvicorn

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s portail %(message)s"))
    logger = logging.getLogger("ptce.portail")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=proxies,
        access_log=False,
        server_header=False,
        date_header=True,
        log_level="warning",
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=16 * 1024,
    )
    uvicorn.Server(config).run()


class PortalChild:
    """`ptce serve --portal`: the portal in a child process beside the schedules, restarted if
    it dies (after a pause), stopped with `ptce serve`. Its log goes to `portal/portail.log`."""

    RESTART_PAUSE = 5.0

    def __init__(self, settings: Settings, *, host: str, port: int, proxies: str):
        self.settings = settings
        self.args = [
            sys.executable,
            "-m",
            "ptce_pipeline.cli.parser",
            "portal",
            "--home",
            str(settings.home),
            "--host",
            host,
            "--port",
            str(port),
            "--proxies",
            proxies,
        ]
        self.url = f"http://{host}:{port}/"
        self.proc = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="portail", daemon=True)

    def _start(self):
        from ptce_pipeline.orchestration.prefect_env import spawn_quiet

        self.settings.portal_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env["PYTHONWARNINGS"] = "ignore"
        self.proc = spawn_quiet(self.args, self.settings.portal_dir / "portail.log", env)

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            if self.proc is not None and self.proc.poll() is not None:
                print(
                    f"Le portail s'est arrêté (code {self.proc.returncode}) : redémarrage dans "
                    f"{self.RESTART_PAUSE:g} s (voir {self.settings.portal_dir / 'portail.log'}).",
                    flush=True,
                )
                if self.stopping.wait(self.RESTART_PAUSE):
                    return
                self._start()

    def __enter__(self):
        self._start()
        self.thread.start()
        print(f"Portail des pôles : {self.url} (journal : portal/portail.log)", flush=True)
        return self

    def __exit__(self, *exc):
        from ptce_pipeline.orchestration.prefect_env import stop_process_group

        self.stopping.set()
        self.thread.join(timeout=5)
        if self.proc is not None:
            stop_process_group(self.proc, grace=5)
