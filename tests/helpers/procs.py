"""Real processes for the orchestration and fault tests: `ptce` in its own session (so the
whole process group can be killed), state checks on the real warehouse and archive."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from ptce_pipeline.orchestration.prefect_env import pid_alive  # noqa: F401 - for the tests

PY = sys.executable


def harness_url() -> str | None:
    """The API URL of the session's prefect_test_harness (subprocesses reuse its server)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def env_for(settings, *, api_url: str | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "PTCE_")) and k not in ("PYTEST_CURRENT_TEST",)
    }
    env.update(
        {
            "PTCE_WORKERS": "2",
            "PTCE_PREFECT_HOME": str(settings.prefect_dir),
            "PREFECT_HOME": str(settings.prefect_dir),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONWARNINGS": "ignore",
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


class Procs:
    """Processes started by one test; every process group is killed at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            **kw,
        )
        self.started.append(proc)
        return proc

    def ptce(self, *args: str, env: dict[str, str], **kw) -> subprocess.Popen:
        return self.start([PY, "-m", "ptce_pipeline.cli.parser", *args], env, **kw)

    def run(self, *args: str, env: dict[str, str], timeout: float = 300) -> Result:
        proc = self.ptce(*args, env=env)
        return self.wait(proc, timeout)

    def wait(self, proc: subprocess.Popen, timeout: float = 300) -> Result:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, err = proc.communicate()
            raise AssertionError(
                f"process still running after {timeout} s:\n{out}\n{err}"
            ) from None
        kill_group(proc)  # reader workers or servers left in the group, if any
        return Result(proc.returncode, out, err)

    def close(self) -> None:
        for proc in self.started:
            kill_group(proc)
            with contextlib.suppress(Exception):
                proc.communicate(timeout=10)


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


def kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_until(predicate, timeout: float = 120.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def release(fault_dir: Path, point: str) -> None:
    from ptce_pipeline.faults import release_marker

    release_marker(point, fault_dir).write_text("go")


def reached(fault_dir: Path, point: str) -> Path:
    from ptce_pipeline.faults import _safe

    return fault_dir / f"ptce-fault-reached-{_safe(point)}"


# --- state of a home --------------------------------------------------------------------------
def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def logical(db: Path) -> dict[str, list[tuple]]:
    """What a run decided, without ids and timestamps (comparable across homes)."""
    return {
        "deliveries": sorted(
            query(db, "SELECT inbox_folder, original_name, sha256, outcome FROM deliveries")
        ),
        "submissions": sorted(
            query(
                db,
                "SELECT inbox_folder, original_name, sha256, status, n_errors, n_warnings "
                "FROM submissions",
            )
        ),
        "indicators": sorted(
            query(
                db,
                "SELECT pole_id, period, indicator_code, value, sheet, cell "
                "FROM current_indicator_values",
            ),
            key=str,
        ),
        "members": query(db, "SELECT count(*) FROM members"),
        "issues": sorted(
            query(
                db,
                "SELECT s.original_name, i.sheet, i.cell, i.code FROM validation_issues i "
                "JOIN submissions s USING (submission_id)",
            ),
            key=str,
        ),
    }


def journal(settings) -> list[dict]:
    path = settings.journal_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def journal_seq(db: Path) -> int:
    rows = query(db, "SELECT value FROM meta WHERE key = 'journal_seq'")
    return int(rows[0][0]) if rows else 0


def leftovers(settings) -> list[str]:
    """Temporary files a finished run must not leave behind."""
    wh = settings.warehouse_dir
    found = [p for pattern in ("ptce.next.duckdb*", ".ptce_lecture.*") for p in wh.glob(pattern)]
    found += list(settings.archive_dir.glob(".*.tmp"))
    found += list(settings.inbox.glob("*/retours/.*.tmp"))
    if settings.publications_dir.exists():
        found += [p for p in settings.publications_dir.glob("*/.*")]
        found += [p for p in settings.publications_dir.iterdir() if p.name.startswith(".")]
    return sorted(str(p.relative_to(settings.home)) for p in found)


def start_serve(procs, home, port, log, *args, **env):
    """`ptce serve` for a test: a fast scheduler and runner, output in `log`; returns once
    its schedules are active."""
    extra = {
        # a test cannot wait a minute for the scheduler's loop nor ten seconds for the runner
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        **env,
    }
    proc = procs.ptce(
        "serve",
        "--home",
        str(home.home),
        "--port",
        str(port),
        "--settle",
        "0",
        *args,
        env=env_for(home, api_url=None, **extra),
        stdout=open(log, "w"),  # noqa: SIM115 - the subprocess owns it
        stderr=subprocess.STDOUT,
    )
    assert wait_until(lambda: "Planification active" in log.read_text(), timeout=240), (
        log.read_text()
    )
    return proc
