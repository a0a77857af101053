"""Fixtures shared by the hostile-input tests: the filled template and one real zip bomb."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.workbooks import filled, workbook

from .builders import GIB, zip_bomb


@pytest.fixture(scope="session")
def template(ref) -> bytes:
    """The real filled template, valid: hostile cases change one thing in it."""
    return workbook(ref, filled(ref))


@pytest.fixture(scope="session")
def gib_bomb(template, tmp_path_factory) -> Path:
    """A workbook of ~2.5 MB whose Indicateurs sheet inflates to 1 GiB (built once a run)."""
    return zip_bomb(template, tmp_path_factory.mktemp("bomb") / "bombe.xlsx", GIB)
