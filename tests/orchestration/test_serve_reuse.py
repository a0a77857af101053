"""CLI runs reuse the server of a running `ptce serve` for the same home (recorded in
`serveur.url` beside `serveur.pid`): no temporary server, and the run shows in serve's API.
A stale record (dead pid, a pid that is not the server, nobody answering) never makes a run
fail: it falls back to a temporary server."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import pytest
from helpers.procs import Procs, env_for, pid_alive, wait_until
from helpers.workbooks import drop, make_home

from ptce_pipeline.orchestration.prefect_env import (
    SERVE_PID,
    SERVE_URL,
    SERVER_LOG,
    free_port,
    serve_api,
)


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def flow_runs(api_url: str) -> list[dict]:
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter",
        data=json.dumps({"limit": 100}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.load(resp)


def test_ingest_uses_the_server_of_a_running_serve(tmp_path, make_workbook, procs):
    home = make_home(tmp_path / "home")
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    port = free_port()
    log = tmp_path / "serve.log"
    serve = procs.ptce(
        "serve",
        "--home",
        str(home.home),
        "--port",
        str(port),
        "--ingest-cron",
        "0 0 1 1 *",  # never during the test: the run below is the CLI's
        env=env_for(home, api_url=None),
        stdout=open(log, "w"),  # noqa: SIM115 - the subprocess owns it
        stderr=subprocess.STDOUT,
    )
    assert wait_until(lambda: "Planification active" in log.read_text(), timeout=240), (
        log.read_text()
    )
    api_url = f"http://127.0.0.1:{port}/api"
    assert (home.prefect_dir / SERVE_URL).read_text().strip() == api_url
    assert serve_api(home) == api_url

    result = procs.run(
        "ingest", "--home", str(home.home), "--settle", "0", env=env_for(home, api_url=None)
    )
    assert result.code == 0, result
    assert result.out.startswith("Fichiers reçus : 1 (nouveaux 1,"), result.out
    runs = [r for r in flow_runs(api_url) if r["deployment_id"] is None]
    assert [r["state_type"] for r in runs] == ["COMPLETED"]  # in serve's UI
    # no temporary server was started for the run
    assert not (home.prefect_dir / SERVER_LOG).exists()

    server = int((home.prefect_dir / SERVE_PID).read_text())
    serve.send_signal(signal.SIGINT)
    assert serve.wait(60) == 0
    assert wait_until(lambda: not pid_alive(server), timeout=60)
    assert not (home.prefect_dir / SERVE_URL).exists()
    assert serve_api(home) is None


@pytest.mark.parametrize("who", ["dead", "not-the-server"])
def test_a_stale_record_of_serve_falls_back_to_a_temporary_server(
    tmp_path, make_workbook, procs, who
):
    import os

    home = make_home(tmp_path / "home")
    home.prefect_dir.mkdir(parents=True, exist_ok=True)
    (home.prefect_dir / SERVE_URL).write_text(f"http://127.0.0.1:{free_port()}/api\n")
    pid = dead_pid() if who == "dead" else os.getpid()
    (home.prefect_dir / SERVE_PID).write_text(str(pid))
    assert serve_api(home) is None
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    result = procs.run(
        "ingest", "--home", str(home.home), "--settle", "0", env=env_for(home, api_url=None)
    )
    assert result.code == 0, result
    assert result.out.startswith("Fichiers reçus : 1 (nouveaux 1,"), result.out
    assert (home.prefect_dir / SERVER_LOG).exists()  # the temporary server ran instead


def test_a_record_of_serve_is_checked_before_it_is_trusted(tmp_path):
    """Without starting anything: each way the record can be wrong gives None, quickly."""
    home = make_home(tmp_path / "home")
    folder = home.prefect_dir
    folder.mkdir(parents=True, exist_ok=True)
    assert serve_api(home) is None  # no record
    url = f"http://127.0.0.1:{free_port()}/api"
    for url_text, pid_text in [
        (url, ""),  # no pid
        (url, "pas un nombre"),
        ("http://example.org/api", str(dead_pid())),  # not a local server of ours
        (url, str(dead_pid())),
        (url, "1"),  # alive, but not a Prefect server
    ]:
        (folder / SERVE_URL).write_text(url_text)
        (folder / SERVE_PID).write_text(pid_text)
        assert serve_api(home) is None, (url_text, pid_text)
