"""The OS lock of the warehouse: one writer across processes, re-entrant within one, released
by the kernel when its holder dies (even by SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ptce_pipeline.errors import WarehouseBusy
from ptce_pipeline.store.lock import holder, is_held_here, warehouse_lock

HOLD = (
    "import sys, time; from pathlib import Path; from ptce_pipeline.store.lock import warehouse_lock\n"
    "with warehouse_lock(Path(sys.argv[1]), what='ptce ingest'):\n"
    "    print('held', flush=True); time.sleep(600)"
)


@pytest.fixture
def other_process(tmp_path):
    procs = []

    def start(path):
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_reentrant_within_a_process(tmp_path):
    path = tmp_path / "ptce.lock"
    with warehouse_lock(path, what="ptce run"):
        with warehouse_lock(path):  # the flow inside the CLI run
            assert is_held_here(path)
        assert is_held_here(path)
        assert holder(path).startswith(f"processus {os.getpid()}, ptce run, depuis ")
    assert not is_held_here(path) and holder(path) is None


def test_another_process_holding_it_makes_us_stop_in_one_french_line(tmp_path, other_process):
    path = tmp_path / "ptce.lock"
    proc = other_process(path)
    with pytest.raises(WarehouseBusy) as caught, warehouse_lock(path):
        pass
    message = str(caught.value)
    assert message.startswith(f"Une autre exécution tient déjà l'entrepôt (processus {proc.pid}, ")
    assert "ptce ingest" in message and message.endswith("s'arrête sans rien traiter.")
    assert "\n" not in message
    assert caught.value.exit_code == 3
    assert not is_held_here(path)


def test_the_kernel_releases_it_when_the_holder_is_killed(tmp_path, other_process):
    path = tmp_path / "ptce.lock"
    proc = other_process(path)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with warehouse_lock(path, what="ptce ingest"):
        assert holder(path).startswith(f"processus {os.getpid()}")
