"""Prefect runs quietly and offline: its environment is set before it is imported, and the
temporary API server of a CLI run is ours to start and stop.

Prefect's state lives in `<home>/.prefect` (or PTCE_PREFECT_HOME, or PREFECT_HOME when the
user set it). Telemetry is off; Prefect's own log lines stay out of the console (they remain
in Prefect's database and UI).

Without PREFECT_API_URL, a CLI run uses the server of this home's running `ptce serve` when
`serveur.url` and `serveur.pid` show one that answers (`serve_api`: no start-up, and the run
shows in its UI). Otherwise Prefect would start a temporary server itself; we start the same
server (`uvicorn prefect.server.api.server:create_app` in ephemeral mode), spawned before
Prefect is imported here so that the import overlaps its start-up, and so that
- its output goes to `<prefect home>/serveur-temporaire.log`, not the terminal (its shutdown
  prints tracebacks on every run);
- it dies with the process that started it (Linux parent-death signal), so a `ptce ingest`
  killed by the OOM killer or `kill -9` never leaves a Prefect server behind;
- Prefect's log and event workers are drained before it stops (no "failed to send" noise).
If that start fails, Prefect's own temporary server is used as a fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ptce_pipeline.config import Settings

PR_SET_PDEATHSIG = 1
SERVER_LOG = "serveur-temporaire.log"
SERVER_PID = "serveur-temporaire.pid"
SERVE_PID = "serveur.pid"  # `ptce serve`: its server's pid and API URL
SERVE_URL = "serveur.url"


def configure(settings: Settings, *, verbose: bool = False) -> None:
    """Set Prefect's own environment (PREFECT_*) for this process and its children, from our
    settings; Prefect reads it at import. Our settings (PTCE_*) come from `load_settings`.

    PTCE_PREFECT_HOME_FROM_PTCE is not a setting: it is a note left in the environment (so
    child processes inherit it) that PREFECT_HOME was set by ptce, not by the user, and may
    be set again for another home."""
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


def die_with_parent() -> None:
    """`preexec_fn` of a child process: SIGTERM it when the process that started it dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """Poll `<url>/api/health` until it answers 200 (or the process died, or time ran out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with (
            contextlib.suppress(Exception),
            urllib.request.urlopen(f"{url}/api/health", timeout=2) as resp,
        ):
            if resp.status == 200:
                return True
        time.sleep(0.1)
    return False


def stop_process_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM a child started in its own session, then SIGKILL its whole group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def spawn_quiet(args: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    """A child in its own session (killed as a group) that dies with us; output to a log file."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def _spawn_server(settings: Settings) -> tuple[subprocess.Popen, str] | None:
    """Start our temporary server → (process, its URL), without waiting for it nor importing
    Prefect here: the caller imports Prefect (≈ 1 s) while the server starts. The child
    reads Prefect's settings from the same environment, profile and folder as we do."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
    }
    env.pop("PREFECT_API_URL", None)
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    args = [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir)]
    args += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--log-level", "error", "--lifespan", "on"]
    try:
        proc = spawn_quiet(args, settings.prefect_dir / SERVER_LOG, env)
    except OSError:
        return None
    (settings.prefect_dir / SERVER_PID).write_text(str(proc.pid))
    return proc, f"http://127.0.0.1:{port}"


def _wait_started(settings: Settings, proc: subprocess.Popen, url: str) -> bool:
    # Prefect's own setting (defaulted by `configure`), honoured for our temporary server too
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS") or 90)
    if wait_healthy(url, timeout, proc):
        return True
    _stop(settings, proc)
    return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def serve_api(settings: Settings, timeout: float = 0.5) -> str | None:
    """The API URL of this home's `ptce serve` server when it is running and answers (its
    pid alive, started by `ptce serve` on that very port, a health check within `timeout`),
    else None. A stale or damaged file is never an error: the run then starts its own."""
    folder = settings.prefect_dir
    try:
        api_url = (folder / SERVE_URL).read_text(encoding="utf-8").strip()
        pid = int((folder / SERVE_PID).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d{1,5})/api", api_url)
    if match is None or pid <= 0 or not pid_alive(pid):
        return None
    try:  # the pid is that server's, not a process that took over a recycled number
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    port = match.group(1).encode()
    if not (b"server" in args and b"start" in args and port in args and b"--port" in args):
        return None
    with (
        contextlib.suppress(Exception),
        urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as resp,
    ):
        if resp.status == 200:
            return api_url
    return None


def write_serve_url(settings: Settings, api_url: str) -> None:
    """`ptce serve`: its server's API URL beside its pid, for CLI runs (written atomically)."""
    path = settings.prefect_dir / SERVE_URL
    tmp = path.with_name(f".{SERVE_URL}.{os.getpid()}.tmp")
    tmp.write_text(api_url + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _stop(settings: Settings, proc: subprocess.Popen) -> None:
    stop_process_group(proc)
    with contextlib.suppress(OSError):
        (settings.prefect_dir / SERVER_PID).unlink()


def _drain() -> None:
    """Send Prefect's buffered logs and events before the server goes away."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with contextlib.suppress(Exception):
        APILogWorker.drain_all(timeout=10)
    with contextlib.suppress(Exception):
        EventsWorker.drain_all(timeout=10)


_ACTIVE: list[str] = []  # the API of the prefect_api context this process is inside, if any


@contextlib.contextmanager
def prefect_api(settings: Settings):
    """Prefect's API for one CLI run: PREFECT_API_URL when set, else the server of a running
    `ptce serve` for this home (the run shows in its UI), else our temporary server."""
    configure(settings)
    if os.environ.get("PREFECT_API_URL"):
        yield None
        return
    if _ACTIVE:  # nested (the demo's ingest then publish): the server already started
        yield _ACTIVE[-1]
        return
    served = serve_api(settings)
    started = None if served else _spawn_server(settings)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if served is None:
        if started is None or not _wait_started(settings, *started):
            yield None  # fall back to Prefect's own temporary server
            return
        served = f"{started[1]}/api"
    try:
        with temporary_settings(updates={PREFECT_API_URL: served}):
            _ACTIVE.append(served)
            try:
                yield served
            finally:
                _ACTIVE.pop()
                _drain()
    finally:
        if started is not None:
            _stop(settings, started[0])
