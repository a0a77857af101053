"""Shared fixtures: real workbooks written by the template writer, real homes, real DuckDB
files, a real Prefect test harness. Plain helpers live in `tests/helpers/`."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")

from helpers.workbooks import filled, make_home, workbook

from ptce_pipeline.catalogue.referentiel import Referentiel, load_referentiel
from ptce_pipeline.catalogue.registry import Pole
from ptce_pipeline.config import Settings
from ptce_pipeline.template import FilledData, demo


@pytest.fixture(scope="session")
def ref() -> Referentiel:
    return load_referentiel()


@pytest.fixture(scope="session")
def poles() -> list[Pole]:
    return demo.registry()


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


@pytest.fixture
def home(tmp_path) -> Settings:
    return make_home(tmp_path / "home")


@pytest.fixture(scope="session")
def prefect_harness():
    """A real Prefect API (temporary SQLite database, subprocess server) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_terminal_summary(terminalreporter):
    """The hostile-corpus and fault-injection tallies, at the end of the run."""
    from helpers import tally

    for line in tally.lines():
        terminalreporter.write_line(line)
