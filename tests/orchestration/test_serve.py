"""`ptce serve` in a real subprocess with its own Prefect server: a scheduled ingestion runs on
its own, the publication deployment runs on demand, a second run of a busy deployment is
cancelled (CANCEL_NEW), and a `ptce serve` killed in the middle of a run neither leaves its
server behind nor blocks the deployment after a restart."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from helpers.procs import (
    Procs,
    env_for,
    pid_alive,
    query,
    reached,
    release,
    start_serve,
    wait_until,
)
from helpers.workbooks import drop, make_home

from ptce_pipeline.orchestration.prefect_env import free_port

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


@contextlib.contextmanager
def api(url: str):
    """A Prefect client pointed at the server of `ptce serve` (not the test harness)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as c:
        yield c


def runs_of(client, deployment_id, *types: str):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )

    flow_run_filter = None
    if types:
        flow_run_filter = FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(types)))
        )
    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=flow_run_filter,
    )


def final_state(client, run_id, timeout: float = 180.0):
    def done():
        return client.read_flow_run(run_id).state.is_final()

    assert wait_until(done, timeout=timeout, every=0.5), "the run never finished"
    return client.read_flow_run(run_id).state


def deployment(client, name: str):
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(name)
    except ObjectNotFound:
        return None


def server_pid(home) -> int:
    return int((home.prefect_dir / "serveur.pid").read_text())


def test_serve_schedules_ingestion_and_serves_publication(tmp_path, make_workbook, procs):
    from prefect.deployments import run_deployment

    home = make_home(tmp_path / "home")
    for pole in ("PTCE-001", "PTCE-002"):
        drop(home, pole, f"{pole}.xlsx", make_workbook(pole, 2024))
    faults = tmp_path / "faults"
    faults.mkdir()
    port = free_port()
    log = tmp_path / "serve-1.log"
    serve = start_serve(
        procs,
        home,
        port,
        log,
        "--ingest-interval",
        "5",
        PTCE_FAULT="pause:publish_start",
        PTCE_FAULT_DIR=str(faults),
    )
    url = f"http://127.0.0.1:{port}/api"
    assert f"Serveur Prefect local : http://127.0.0.1:{port}" in log.read_text()
    first_server = server_pid(home)
    with api(url) as client:
        assert wait_until(lambda: deployment(client, "publish-national-tables/ptce-publish"))
        ingest = deployment(client, "ingest-inbox/ptce-ingest")
        publish = deployment(client, "publish-national-tables/ptce-publish")
        for dep in (ingest, publish):
            assert dep.global_concurrency_limit.limit == 1
            assert dep.concurrency_options.collision_strategy == "CANCEL_NEW"
            assert dep.schedules[0].schedule.timezone == "Europe/Paris"
        # nobody triggers anything: the scheduler creates the run, the runner executes it
        assert wait_until(lambda: runs_of(client, ingest.id, "COMPLETED"), timeout=240, every=1), (
            log.read_text()
        )
        assert sorted(query(home.snapshot_db, "SELECT pole_id FROM current_submissions")) == [
            ("PTCE-001",),
            ("PTCE-002",),
        ]
        client.pause_deployment(ingest.id)  # the OS lock stays free for what follows
        assert wait_until(lambda: not runs_of(client, ingest.id, "RUNNING", "PENDING"), timeout=120)

        # publication on demand; it pauses inside the run (holding its slot and the lock)
        with api(url):
            held = run_deployment("publish-national-tables/ptce-publish", timeout=0)
            assert wait_until(reached(faults, "publish_start").exists, timeout=180)
            second = run_deployment("publish-national-tables/ptce-publish", timeout=0)
        state = final_state(client, second.id)
        assert state.is_cancelled()  # by the deployment's limit, not by our lock
        assert "concurrency limit" in state.message.lower(), state.message

        assert client.read_flow_run(held.id).state.is_running()
        # `ptce serve` killed with its run in the middle: its server dies with it
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(30)
    assert wait_until(lambda: not pid_alive(first_server), timeout=60), "server left running"
    release(faults, "publish_start")

    # restarted: the orphaned run is released, the publication deployment runs again
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = tmp_path / "serve-2.log"
    serve = start_serve(procs, home, port, log, "--ingest-cron", "0 0 1 1 *")
    assert "1 exécution(s) interrompue(s) par un arrêt brutal" in log.read_text()
    with api(url) as client:
        assert client.read_flow_run(held.id).state.is_crashed()
        with api(url):
            done = run_deployment("publish-national-tables/ptce-publish", timeout=240)
        assert done.state.is_completed(), done.state
        assert (home.publications_for("interne") / "2024" / "index.html").exists()
    second_server = server_pid(home)
    serve.send_signal(signal.SIGINT)  # Ctrl+C: a clean stop, server included
    assert serve.wait(60) == 0
    assert "Planification arrêtée." in log.read_text()
    assert wait_until(lambda: not pid_alive(second_server), timeout=60)
    assert not (home.prefect_dir / "serveur.pid").exists()


def test_a_second_serve_for_the_same_home_stops_at_once(tmp_path, procs):
    from ptce_pipeline.store.lock import warehouse_lock

    home = make_home(tmp_path / "home")
    home.prefect_dir.mkdir(parents=True)
    with warehouse_lock(home.prefect_dir / "serve.lock", what="ptce serve"):
        result = procs.run(
            "serve",
            "--home",
            str(home.home),
            "--port",
            str(free_port()),
            env=env_for(home, api_url=None),
        )
    assert result.code == 3, result
    assert result.err.strip() == (
        f"Occupé : Un autre `ptce serve` planifie déjà ce dossier (processus {os.getpid()}, "
        f"ptce serve, depuis {result.err.split('depuis ', 1)[1].split(')')[0]})."
    )
    assert not (home.prefect_dir / "serveur.pid").exists()  # no server was started
