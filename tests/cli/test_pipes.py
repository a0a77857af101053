"""A reader that leaves early (`ptce status | head`) ends the command quietly: no
« Erreur interne », no « Exception ignored », no traceback logged, the verb's own exit code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers.workbooks import drop

from ptce_pipeline.ingestion.run import run_ingest

# the console script's own entry point, as `ptce` runs it
PTCE = [sys.executable, "-c", "from ptce_pipeline.cli import entry; entry()"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from helpers.workbooks import filled, make_home, packaged_ref, workbook

    settings = make_home(tmp_path_factory.mktemp("pipes") / "home")
    drop(settings, "PTCE-001", "suivi.xlsx", workbook(packaged_ref(), filled(packaged_ref())))
    run_ingest(settings)
    return settings


def closed_before_start(args: list[str]) -> subprocess.CompletedProcess:
    """Run `ptce` with its stdout a pipe whose reader is already gone: every write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(PTCE + args, stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["status", "--period", "2024"],
        ["--help"],
        ["status", "--help"],
    ],
)
def test_a_closed_pipe_ends_the_command_quietly(ingested, args):
    home = ["--home", str(ingested.home)] if args[-1] != "--help" else []
    done = closed_before_start(args + home)
    assert done.stderr == ""
    assert done.returncode == 0
    assert not (ingested.home / ".ptce-erreurs.log").exists()


def test_a_reader_that_reads_one_line_then_leaves(ingested):
    proc = subprocess.Popen(
        [*PTCE, "status", "--json", "--home", str(ingested.home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "{"
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == ""
    assert not (ingested.home / ".ptce-erreurs.log").exists()
