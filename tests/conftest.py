"""Shared fixtures: real workbooks written by the template writer, real homes, real DuckDB
files, a real Prefect test harness."""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")

from ptce_pipeline.catalogue.referentiel import Referentiel, load_referentiel
from ptce_pipeline.catalogue.registry import Pole, write_registry
from ptce_pipeline.config import Settings, load_settings
from ptce_pipeline.template import FilledData, build_template, demo, fill_workbook, workbook_bytes

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def ref() -> Referentiel:
    return load_referentiel()


@pytest.fixture(scope="session")
def poles() -> list[Pole]:
    return demo.registry()


def filled(
    ref: Referentiel, pole_id: str = "PTCE-001", period: int = 2024, seed: int = 7
) -> FilledData:
    """Plausible, valid data for one pole and period (the demo generator, no mistakes)."""
    pole = next(p for p in demo.POLES if p.pole_id == pole_id)
    return demo.pole_data(ref, pole, period, random.Random(f"{seed}-{pole_id}"), {})


def workbook(
    ref: Referentiel,
    data: FilledData,
    *,
    pole_id: str | None = None,
    period: int | None = None,
    edit: Callable | None = None,
) -> bytes:
    """Bytes of a template filled with `data`; `edit(wb)` breaks it in exactly one place."""
    reg = {p.pole_id: p for p in demo.registry()}
    pid = pole_id or data.identity.get("pole_id")
    wb = build_template(ref, pole=reg.get(pid), period=period or data.identity.get("periode"))
    fill_workbook(wb, ref, data)
    if edit is not None:
        edit(wb)
    return workbook_bytes(wb)


@pytest.fixture
def make_workbook(ref) -> Callable[..., bytes]:
    def make(
        pole_id: str = "PTCE-001",
        period: int = 2024,
        *,
        change: Callable[[FilledData], None] | None = None,
        edit: Callable | None = None,
        seed: int = 7,
    ) -> bytes:
        data = copy.deepcopy(filled(ref, pole_id, period, seed))
        if change is not None:
            change(data)
        return workbook(ref, data, edit=edit)

    return make


def make_home(root: Path, *, poles: list[Pole] | None = None, **env) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    write_registry(root / "poles.csv", poles if poles is not None else demo.registry())
    (root / "campagnes.csv").write_text(
        "periode,date_limite\n2024,2099-03-31\n2025,2099-03-31\n", encoding="utf-8"
    )
    environ = {
        "PTCE_WORKERS": "2",
        "PTCE_SETTLE": "0",
        "PTCE_PREFECT_HOME": str(root / ".prefect"),
        **env,
    }
    return load_settings(environ, home=root)


@pytest.fixture
def home(tmp_path) -> Settings:
    return make_home(tmp_path / "home")


def drop(settings: Settings, folder: str, name: str, data: bytes) -> Path:
    target = settings.inbox / folder if folder else settings.inbox
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def prefect_harness():
    """A real Prefect API (temporary SQLite database, subprocess server) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def q(path, sql, *params):
    """Rows of a query on a DuckDB file opened read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def set_indicator(code, value):
    """A `change=` for make_workbook: one indicator typed differently."""

    def change(data):
        data.indicators[code] = value

    return change
