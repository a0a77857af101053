"""`ptce serve --portal`: one supervised process serves the schedules and the portal; a pole's
upload through the portal comes back as a receipt on its page. The time from upload to
receipt is measured and reported at the end of the suite (never asserted)."""

from __future__ import annotations

import re
import signal
import time

import httpx
import pytest
from helpers import tally
from helpers.portal import A, client, csrf, link
from helpers.procs import Procs, start_serve, wait_until
from helpers.workbooks import filled, make_home, workbook

from ptce_pipeline.orchestration.prefect_env import free_port

pytestmark = pytest.mark.usefixtures("prefect_harness")


class _Portal:
    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


def test_serve_with_the_portal_turns_an_upload_into_a_receipt(tmp_path, ref):
    home = make_home(tmp_path / "home")
    procs = Procs()
    try:
        portal_port = free_port()
        log = tmp_path / "serve.log"
        # no schedule within the test: the upload itself asks serve for an ingestion, and
        # the file the portal wrote whole does not wait for the settle delay (30 s here)
        serve = start_serve(
            procs,
            home,
            free_port(),
            log,
            "--portal",
            "--portal-port",
            str(portal_port),
            "--ingest-cron",
            "0 0 1 1 *",
            "--settle",
            "30",
        )
        assert f"Portail des pôles : http://127.0.0.1:{portal_port}/" in log.read_text()
        portal = _Portal(portal_port)
        assert wait_until(lambda: _answers(portal.url), timeout=60), log.read_text()
        c = client(portal, link(home, A))
        token = csrf(c.get("/").text)
        body = workbook(ref, filled(ref, A, 2024))
        started = time.monotonic()
        r = c.post("/depot", data={"csrf": token}, files=[("fichiers", ("suivi.xlsx", body))])
        assert r.status_code == 200
        assert wait_until(
            lambda: re.search(r'href="/retours/[^"]+_recu\.html"', c.get("/").text),
            timeout=240,
            every=0.5,
        ), log.read_text() + (home.portal_dir / "portail.log").read_text()
        took = time.monotonic() - started
        tally.FIGURES[
            "du dépôt par le portail à l'accusé sur sa page (ptce serve --portal, ingestion "
            "demandée par le dépôt, délai de stabilité 30 s)"
        ] = f"{took:.1f} s"
        # the portal is supervised: killed, it comes back
        pid = int(re.search(r"\d+", _portal_pid(home, portal_port)).group())
        import os

        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: _answers(portal.url), timeout=60), log.read_text()
        assert "Le portail s'est arrêté" in log.read_text()
        serve.send_signal(signal.SIGINT)
        assert serve.wait(60) == 0
        assert not _answers(portal.url)
    finally:
        procs.close()


def _answers(url: str) -> bool:
    try:
        httpx.get(url + "/static/portail.css", timeout=1)
        return True
    except httpx.TransportError:
        return False


def _portal_pid(home, port: int) -> str:
    """The pid of `ptce portal --port <port>` (from /proc)."""
    from pathlib import Path

    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"portal" in args and str(port).encode() in args:
                return proc.name
    raise AssertionError("no portal process")
