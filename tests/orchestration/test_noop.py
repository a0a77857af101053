"""A run of `ingest`, `run` or `publish` with nothing to do is answered without Prefect, with
exactly the output and exit code of the full flow run (forced here with PTCE_FAST_NOOP=0),
and leaves no flow run behind; a run with a settled file still goes through Prefect."""

from __future__ import annotations

import json
import re

import pytest
from helpers.procs import PY, Procs, env_for, harness_url
from helpers.workbooks import drop

pytestmark = pytest.mark.usefixtures("prefect_harness")

# `ptce` in a process that says, on its last stderr line, whether Prefect was imported
WRAPPER = (
    "import sys\n"
    "from ptce_pipeline.cli.parser import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write(f'prefect importé : {\"prefect\" in sys.modules}\\n')\n"
    "sys.exit(code)\n"
)
TIMES = ("started", "ended", "durations")


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def ptce(procs, home, *args: str, **env: str):
    """→ (result, whether Prefect was imported)."""
    env = env_for(home, api_url=harness_url(), **env)
    result = procs.wait(procs.start([PY, "-c", WRAPPER, *args, "--home", str(home.home)], env))
    *rest, last = result.err.splitlines() or [""]
    assert last.startswith("prefect importé : "), result
    result.err = "\n".join(rest)
    return result, last.endswith("True")


def flow_runs() -> list:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(limit=200)


def same_terminal(text: str) -> str:
    return re.sub(r"^Durée : \d+(\.\d+)? s\.$", "Durée : …", text, flags=re.M)


def without_times(data):
    """A run's --json without its clock readings (they differ from run to run)."""
    if isinstance(data, dict):
        return {k: without_times(v) for k, v in data.items() if k not in TIMES}
    return data


@pytest.fixture
def done_home(home, make_workbook, procs):
    """A home where a full run (ingestion and publication) just happened."""
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    result, _ = ptce(procs, home, "run", "--settle", "0")
    assert result.code == 0, result
    assert "Tableaux 2024 publiés" in result.out
    return home


@pytest.mark.parametrize(
    "args",
    [
        ("ingest",),
        ("ingest", "--json"),
        ("run",),
        ("run", "--json"),
        ("publish",),
    ],
)
def test_nothing_to_do_answers_without_prefect_as_the_flow_would(done_home, procs, args):
    extra = ("--settle", "0") if args[0] != "publish" else ()
    full, imported = ptce(procs, done_home, *args, *extra, PTCE_FAST_NOOP="0")
    assert imported  # the switch forces the flow
    before = len(flow_runs())
    fast, imported = ptce(procs, done_home, *args, *extra)
    assert not imported, fast
    assert len(flow_runs()) == before  # no Prefect record
    assert (fast.code, fast.err) == (full.code, full.err) == (0, "")
    if "--json" in args:
        data = json.loads(fast.out)
        assert without_times(data) == without_times(json.loads(full.out))
        ingest = data["ingest"] if args[0] == "run" else data
        assert ingest["nothing_new"] and not ingest["needs_attention"]
        if args[0] == "run":
            assert data["publication"]["published"] == []
            assert data["publication"]["skipped"] == [2024]
    else:
        assert fast.out == full.out
        assert fast.out.startswith(("Rien de nouveau", "Aucune période à republier"))


def test_a_file_still_being_copied_is_reported_the_same_way(done_home, make_workbook, procs):
    drop(done_home, "PTCE-002", "en-cours.xlsx", make_workbook("PTCE-002", 2024))
    for args in (("ingest",), ("ingest", "--json"), ("run",)):
        full, imported = ptce(procs, done_home, *args, "--settle", "600", PTCE_FAST_NOOP="0")
        assert imported
        fast, imported = ptce(procs, done_home, *args, "--settle", "600")
        assert not imported, fast
        assert fast.code == full.code == 0
        if "--json" in args:
            data = json.loads(fast.out)
            assert data["waiting"] == ["inbox/PTCE-002/en-cours.xlsx"]
            assert without_times(data) == without_times(json.loads(full.out))
        else:
            assert "  En cours de copie, repris au prochain passage : " in fast.out
            assert same_terminal(fast.out) == same_terminal(full.out)
    assert (done_home.inbox / "PTCE-002" / "en-cours.xlsx").exists()


def test_a_settled_file_goes_through_prefect(done_home, make_workbook, procs):
    before = {r.id for r in flow_runs()}
    drop(done_home, "PTCE-002", "suivi.xlsx", make_workbook("PTCE-002", 2024))
    result, imported = ptce(procs, done_home, "ingest", "--settle", "0")
    assert imported
    assert result.code == 0, result
    assert result.out.startswith("Fichiers reçus : 1 (nouveaux 1,"), result.out
    new = [r for r in flow_runs() if r.id not in before]
    assert [r.state.type.value for r in new] == ["COMPLETED"]
    assert not (done_home.inbox / "PTCE-002" / "suivi.xlsx").exists()
    # the publication now has something to do: through Prefect as well
    result, imported = ptce(procs, done_home, "publish")
    assert imported and result.code == 0, result
    assert "Tableaux 2024 publiés" in result.out


def test_housekeeping_to_do_goes_through_prefect(done_home, procs):
    """A leftover of an interrupted run (here a temporary feedback file) is the flow's to sweep."""
    leftover = done_home.inbox / "PTCE-001" / "retours" / ".recu.html.4242.tmp"
    leftover.write_text("interrompu")
    result, imported = ptce(procs, done_home, "ingest", "--settle", "0")
    assert imported and result.code == 0, result
    assert result.out.startswith("Rien de nouveau"), result.out
    assert not leftover.exists()
    result, imported = ptce(procs, done_home, "ingest", "--settle", "0")
    assert not imported and result.out.startswith("Rien de nouveau"), result
