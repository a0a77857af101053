"""Real Prefect flow runs under prefect_test_harness: a mixed inbox, a file still being
copied, a transient failure retried by Prefect, our own fault (Failed), a busy warehouse
(Cancelled), the run artifact, publication."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest
from helpers.procs import journal, leftovers, query, wait_until
from helpers.workbooks import drop

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _bad(data):
    data.indicators["IND12"] = 7


class SlowCopy(threading.Thread):
    """A pole's file still being copied: bytes appended every few milliseconds (its size and
    mtime keep changing) until `finish()`, which writes the rest at once."""

    def __init__(self, path, data: bytes, piece: int = 16, every: float = 0.02):
        super().__init__(daemon=True)
        self.path, self.data, self.piece, self.every = path, data, piece, every
        self.done = threading.Event()
        self.started_writing = threading.Event()

    def run(self) -> None:
        pos = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "wb") as fh:
            while not self.done.is_set() and pos < len(self.data) - self.piece:
                fh.write(self.data[pos : pos + self.piece])
                fh.flush()
                pos += self.piece
                self.started_writing.set()
                time.sleep(self.every)
            fh.write(self.data[pos:])

    def finish(self) -> None:
        self.done.set()
        self.join()


def _task_runs(flow_run_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def test_mixed_inbox_one_run_decides_everything(home, make_workbook):
    from prefect.artifacts import Artifact

    from ptce_pipeline.flows.ingest import ARTIFACT_KEY, ingest_inbox

    good = make_workbook("PTCE-001", 2024)
    drop(home, "PTCE-001", "bon.xlsx", good)
    drop(home, "PTCE-002", "mauvais.xlsx", make_workbook("PTCE-002", 2024, change=_bad))
    drop(home, "PTCE-003", "inscrit.xlsx", make_workbook("PTCE-003", 2024))
    drop(home, "", "racine.xlsx", make_workbook("PTCE-004", 2024))  # unknown sender
    drop(home, "PTCE-999", "inconnu.xlsx", make_workbook("PTCE-005", 2024))  # unknown sender
    # what Office, LibreOffice, browsers and copy tools leave behind: never touched, never said
    junk = {
        ("PTCE-001", "~$bon.xlsx"),
        ("PTCE-001", ".~lock.bon.xlsx#"),
        ("PTCE-001", ".DS_Store"),
        ("PTCE-001", "suivi.xlsx.part"),
        ("PTCE-001", "suivi.xlsx.crdownload"),
        ("PTCE-001", "suivi.tmp"),
        ("PTCE-001", "Thumbs.db"),
        ("PTCE-002", "retours/vieux_recu.xlsx"),
    }
    (home.inbox / "PTCE-002" / "retours").mkdir(parents=True)
    for folder, name in junk:
        drop(home, folder, name, b"junk")
    # a file still being copied in PTCE-004's folder, for the whole run
    copying = SlowCopy(home.inbox / "PTCE-004" / "en_cours.xlsx", make_workbook("PTCE-004", 2024))
    copying.start()
    assert copying.started_writing.wait(10)
    time.sleep(0.3)  # older than nothing but the copy: every other file is settled
    try:
        state = ingest_inbox(home=str(home.home), settle=0.2, return_state=True)
    finally:
        copying.finish()
    assert state.is_completed(), state.message
    report = state.result()
    assert (report["new"], report["duplicates"], report["unknown_sender"]) == (3, 0, 2)
    assert report["statuses"]["refusee"] == 1
    assert report["waiting"] == ["inbox/PTCE-004/en_cours.xlsx"]
    assert not report["unreadable"] and not report["quarantined"] and not report["errors"]
    # junk untouched and never mentioned; the copy in progress left where it is, unarchived
    for folder, name in junk:
        assert (home.inbox / folder / name).read_bytes() == b"junk"
        assert name.rsplit("/", 1)[-1] not in str(report)
    assert (home.inbox / "PTCE-004" / "en_cours.xlsx").exists()
    assert len(list(home.archive_dir.glob("*.xlsx"))) == 5
    assert len([r for r in journal(home) if r["type"] == "delivery"]) == 5

    artifact = Artifact.get(ARTIFACT_KEY)
    text = artifact.data
    assert "| Nouveaux | 3 |" in text and "| Refusés | 1 |" in text
    assert "| Expéditeur inconnu | 2 |" in text
    # the refused file (in a code span), its cell (Markdown-escaped: inert)
    assert "`mauvais.xlsx`" in text and "Indicateurs\\!" in text
    assert "## Durées" in text and "| archivage |" in text
    from ptce_pipeline.catalogue import display
    from ptce_pipeline.ingestion.report import RunReport

    for line in RunReport.from_dict(report).summary_lines():
        assert display.markdown(line.strip(), 600) in text  # the terminal's summary

    # the same bytes again under another name: a duplicate; the finished copy: accepted
    drop(home, "PTCE-001", "bon (copie).xlsx", good)
    time.sleep(0.3)
    state = ingest_inbox(home=str(home.home), settle=0.2, return_state=True)
    assert state.is_completed()
    report = state.result()
    assert (report["new"], report["duplicates"]) == (1, 1)
    assert report["statuses"]["acceptee"] + report["statuses"]["acceptee_avec_avertissements"] == 1
    assert sorted(query(home.snapshot_db, "SELECT pole_id FROM current_submissions")) == [
        ("PTCE-001",),
        ("PTCE-003",),
        ("PTCE-004",),
    ]
    assert query(home.live_db, "SELECT count(*) FROM submissions") == [(4,)]
    assert query(home.live_db, "SELECT count(*) FROM deliveries") == [(7,)]
    assert leftovers(home) == []


def test_transient_read_failure_is_retried_by_prefect(home, make_workbook, monkeypatch, tmp_path):
    from ptce_pipeline.flows.ingest import ingest_inbox

    drop(home, "PTCE-001", "tenu.xlsx", make_workbook("PTCE-001", 2024))
    drop(home, "PTCE-002", "libre.xlsx", make_workbook("PTCE-002", 2024))
    # busy at claim time, and again at the first retry: the second retry succeeds
    monkeypatch.setenv("PTCE_FAULT", "oserror-2:read:tenu.xlsx")
    state = ingest_inbox(home=str(home.home), settle=0, return_state=True)
    assert state.is_completed(), state.message
    report = state.result()
    assert report["new"] == 2 and not report["unreadable"]

    def retried():
        runs = _task_runs(state.state_details.flow_run_id)
        return [t for t in runs if t.name.startswith("réessayer") and t.state.is_completed()]

    assert wait_until(retried, timeout=30)  # task runs are recorded from events: may lag
    assert len(retried()) == 1 and retried()[0].run_count == 2
    assert not list((home.inbox / "PTCE-001").glob("*.xlsx"))


def test_a_file_unreadable_for_longer_stays_in_the_inbox(home, make_workbook, monkeypatch):
    from ptce_pipeline.flows.ingest import claim_again, ingest_inbox

    drop(home, "PTCE-001", "tenu.xlsx", make_workbook("PTCE-001", 2024))
    monkeypatch.setenv("PTCE_FAULT", "oserror-9:read:tenu.xlsx")
    quick = claim_again.with_options(retry_delay_seconds=0)
    monkeypatch.setattr("ptce_pipeline.flows.ingest.claim_again", quick)
    state = ingest_inbox(home=str(home.home), settle=0, return_state=True)
    assert state.is_completed()  # nothing is lost: the file is simply taken next time
    report = state.result()
    assert report["unreadable"] == [
        "inbox/PTCE-001/tenu.xlsx (fichier momentanément illisible, repris au prochain passage)"
    ]
    assert (home.inbox / "PTCE-001" / "tenu.xlsx").exists()
    assert not [r for r in journal(home) if r["type"] == "delivery"]
    monkeypatch.delenv("PTCE_FAULT")
    report = ingest_inbox(home=str(home.home), settle=0)
    assert report["new"] == 1 and not report["unreadable"]


def test_our_own_fault_fails_the_run_and_the_next_run_finishes(home, make_workbook, monkeypatch):
    from ptce_pipeline.flows.ingest import ingest_inbox

    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2024))
    monkeypatch.setenv("PTCE_FAULT", "error:load_commit")
    state = ingest_inbox(home=str(home.home), settle=0, return_state=True)
    assert state.is_failed()
    report = state.result(raise_on_failure=False)
    assert report["statuses"]["en_attente"] == 1 and report["needs_attention"]
    assert query(home.live_db, "SELECT status FROM submissions") == [("en_attente",)]
    monkeypatch.delenv("PTCE_FAULT")
    state = ingest_inbox(home=str(home.home), settle=0, return_state=True)
    assert state.is_completed()
    assert query(home.live_db, "SELECT status FROM submissions")[0][0].startswith("acceptee")
    assert len([r for r in journal(home) if r["type"] == "delivery"]) == 1


def test_busy_warehouse_cancels_the_run_without_claiming(home, make_workbook, tmp_path):
    from ptce_pipeline.flows.ingest import ingest_inbox

    drop(home, "PTCE-001", "a.xlsx", make_workbook("PTCE-001", 2024))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ptce_pipeline.store.lock import warehouse_lock\n"
            "with warehouse_lock(Path(sys.argv[1]), what='ptce ingest'):\n"
            "    print('held', flush=True); time.sleep(600)",
            str(home.lock_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        state = ingest_inbox(home=str(home.home), settle=0, return_state=True)
    finally:
        os.killpg(holder.pid, 9)
        holder.wait()
    assert state.is_cancelled()
    assert state.message.startswith("Une autre exécution tient déjà l'entrepôt (processus ")
    assert "ptce ingest" in state.message and "\n" not in state.message
    assert (home.inbox / "PTCE-001" / "a.xlsx").exists()
    assert not home.journal_path.exists()
    # the lock died with its holder: the next run goes through
    assert ingest_inbox(home=str(home.home), settle=0)["new"] == 1


def test_run_pipeline_publishes(home, make_workbook):
    from ptce_pipeline.flows.run import run_pipeline

    for pole in ("PTCE-001", "PTCE-002", "PTCE-003"):
        drop(home, pole, f"{pole}.xlsx", make_workbook(pole, 2024))
    result = run_pipeline(home=str(home.home), settle=0)
    assert result["publication"]["published"] == [2024]
    assert not result["ingest_failed"] and not result["publication_failed"]
    index = home.publications_for("interne") / "2024" / "index.html"
    assert index.exists() and 'lang="fr"' in index.read_text(encoding="utf-8")
    con = duckdb.connect(str(home.snapshot_db), read_only=True)
    assert con.execute("SELECT count(*) FROM current_submissions").fetchone() == (3,)
    con.close()
