"""The portal as its tests meet it: a home with two poles' files ingested and published, a real
`ptce portal` process (uvicorn) on a free port, personal links, clients holding sessions."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from helpers.procs import kill_group
from helpers.workbooks import drop, filled, make_home, workbook
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.portal import create_link
from ptce_pipeline.publication import publish
from ptce_pipeline.template.demo import DEMO_CONTACT

A, B = "PTCE-001", "PTCE-002"


def portal_home(root: Path, ref, **env):
    """A's accepted 2024 file and refused 2025 file (an annotated copy), B's accepted 2024
    file; both poles' 2024 fiches published into their `retours/`."""
    settings = make_home(root, **env)
    settings.contact_path.write_text(DEMO_CONTACT, encoding="utf-8")
    drop(settings, A, "A_suivi_2024.xlsx", workbook(ref, filled(ref, A, 2024)))
    bad = copy.deepcopy(filled(ref, A, 2025))
    bad.indicators["IND12"] = 7  # out of the 0–3 scale: refused
    drop(settings, A, "A_suivi_2025.xlsx", workbook(ref, bad))
    drop(settings, B, "B_suivi_2024.xlsx", workbook(ref, filled(ref, B, 2024)))
    run_ingest(settings)
    publish(settings, [2024])
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    """`ptce portal` in its own process group; `url`, `stop()`, `kill()`."""

    def __init__(self, settings, **env: str):
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("PTCE_", "PREFECT_"))}
        environ.update(
            {"PTCE_PREFECT_HOME": str(settings.prefect_dir), "PYTHONWARNINGS": "ignore", **env}
        )
        self.log = settings.home / f"portail-{self.port}.log"
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ptce_pipeline.cli.parser",
                    "portal",
                    "--home",
                    str(settings.home),
                    "--port",
                    str(self.port),
                ],
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/static/portail.css", timeout=1)
                return
            except httpx.TransportError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise AssertionError(f"le portail n'a pas démarré :\n{self.log.read_text()}")

    def kill(self) -> None:
        kill_group(self.proc)
        self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def link(settings, pole_id: str | None, **kw) -> str:
    """A new personal link's token (for a pole, or the national team when None)."""
    _, url = create_link(settings, pole_id=pole_id, by="test", **kw)
    return url.rsplit("/", 1)[1]


def client(portal: Portal, token: str | None) -> httpx.Client:
    """A client that opened `token`'s link (None: an anonymous client)."""
    c = httpx.Client(base_url=portal.url, timeout=30, follow_redirects=False)
    if token is not None:
        r = c.get(f"/acces/{token}")
        assert r.status_code == 303, r.text
    return c


def csrf(page_html: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)
