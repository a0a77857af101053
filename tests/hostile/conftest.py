"""Fixtures shared by the hostile-input tests: the filled template and one real zip bomb."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from helpers.workbooks import filled, workbook

from .builders import GIB, zip_bomb

_HYPOTHESIS_HOME: list[Path] = []


def pytest_configure(config):
    """Hypothesis writes its caches (even while collecting) under a temporary folder removed
    at the end, never into the current directory."""
    from hypothesis import configuration

    home = Path(tempfile.mkdtemp(prefix="ptce-hypothesis-"))
    _HYPOTHESIS_HOME.append(home)
    configuration.set_hypothesis_home_dir(home)


def pytest_unconfigure(config):
    for home in _HYPOTHESIS_HOME:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template(ref) -> bytes:
    """The real filled template, valid: hostile cases change one thing in it."""
    return workbook(ref, filled(ref))


@pytest.fixture(scope="session")
def gib_bomb(template, tmp_path_factory) -> Path:
    """A workbook of ~2.5 MB whose Indicateurs sheet inflates to 1 GiB (built once a run)."""
    return zip_bomb(template, tmp_path_factory.mktemp("bomb") / "bombe.xlsx", GIB)
