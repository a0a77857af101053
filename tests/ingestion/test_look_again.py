"""A run looks at the inbox again before it commits: a file that lands while the run reads and
loads (an upload through the portal, written whole) is decided by the same run, not left for
the next one (which, with `ptce serve`, may be a quarter of an hour away)."""

from __future__ import annotations

import dataclasses
import threading

from helpers.procs import reached, release, wait_until
from helpers.workbooks import drop, make_home

from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store import access


def test_a_file_landing_during_a_run_is_decided_by_that_run(tmp_path, make_workbook):
    faults = tmp_path / "faults"
    faults.mkdir()
    home = make_home(tmp_path / "home")
    home = dataclasses.replace(home, fault="pause:during_feedback", fault_dir=faults)
    drop(home, "PTCE-001", "premier.xlsx", make_workbook("PTCE-001", 2024))
    result = {}

    def run():
        result["report"] = run_ingest(home, settle=0)

    worker = threading.Thread(target=run)
    worker.start()
    assert wait_until(reached(faults, "during_feedback").exists, timeout=120)
    # an upload written whole by the portal, while the run writes the first file's feedback
    second = drop(home, "PTCE-002", "televerse.xlsx", make_workbook("PTCE-002", 2024))
    st = second.stat()
    access.record_upload(
        home.portal_dir,
        pole_id="PTCE-002",
        name="televerse.xlsx",
        ino=st.st_ino,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        sha256="-",
        access_id=1,
        now=home.clock(),
    )
    release(faults, "during_feedback")
    worker.join(180)
    report = result["report"]
    names = sorted(f.name for f in report.files)
    assert names == ["premier.xlsx", "televerse.xlsx"], report.to_dict()
    assert not second.exists()
    assert sorted(p.name for p in (home.inbox / "PTCE-002" / "retours").iterdir())[0].endswith(
        "_televerse_recu.html"
    )
