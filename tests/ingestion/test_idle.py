"""The cheap look for work (`ingestion.idle`, `publication.up_to_date`) on real homes, without
Prefect: an idle report only where the full run has nothing to do, None (run the flow) for
every kind of work or housekeeping, and nothing written either way."""

from __future__ import annotations

import os

import pytest
from helpers.workbooks import drop

from ptce_pipeline.ingestion.idle import idle_report
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.publication import publish, up_to_date
from ptce_pipeline.store.journal import Journal


def tree(root) -> dict[str, tuple[int, int]]:
    """Every path under the home with its size and modification time."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            st = os.lstat(os.path.join(folder, name))
            out[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def done(home, make_workbook):
    """A home where an ingestion and a publication just happened."""
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    report = run_ingest(home)
    assert report.new == 1
    assert publish(home).published == [2024]
    return home


def test_a_home_with_nothing_to_do_gets_the_idle_report_and_stays_as_it_was(done):
    before = tree(done.home)
    report = idle_report(done)
    assert up_to_date(done) == [2024]
    assert tree(done.home) == before  # the look wrote nothing
    assert report is not None
    assert report.nothing_new and not report.waiting and not report.needs_attention
    assert report.summary_lines() == run_ingest(done).summary_lines()


def test_a_file_being_copied_is_reported_as_the_run_reports_it(done, make_workbook):
    drop(done, "PTCE-002", "en-cours.xlsx", make_workbook("PTCE-002", 2024))
    slow = done.with_(settle_seconds=600)
    report = idle_report(slow)
    assert report.waiting == ["inbox/PTCE-002/en-cours.xlsx"]
    assert report.summary_lines()[:-1] == run_ingest(slow).summary_lines()[:-1]  # but Durée
    assert idle_report(done) is None  # settled: the flow takes it


def journal_torn(s):
    with open(s.journal_path, "ab") as fh:
        fh.write(b'{"seq": 999, "type": "deliv')


def journal_ahead(s):
    j = Journal(s)
    j.add({"type": "config", "note": "journaled by a run that died before its commit"})
    j.flush()


def symlink(s):
    os.symlink("/etc/passwd", s.inbox / "PTCE-001" / "lien.xlsx")


def feedback_temp(s):
    (s.inbox / "PTCE-001" / "retours" / ".x_recu.html.77.tmp").write_text("")


def next_generation(s):
    (s.warehouse_dir / "ptce.next.duckdb").write_bytes(b"")


def incoming(s):
    (s.archive_dir / ".incoming.abc.tmp").write_bytes(b"")


def pole_folder_missing(s):
    os.rmdir(s.inbox / "PTCE-003" / "retours")


def pole_folder_a_file(s):
    os.rmdir(s.inbox / "PTCE-003" / "retours")
    os.rmdir(s.inbox / "PTCE-003")
    (s.inbox / "PTCE-003").write_text("")


def snapshot_behind(s):
    s.snapshot_db.unlink()


def wal(s):
    (s.warehouse_dir / "ptce.duckdb.wal").write_bytes(b"")


def corrupt(s):
    with open(s.live_db, "r+b") as fh:
        fh.seek(8)
        fh.write(b"XXXX")


@pytest.mark.parametrize(
    "change",
    [
        journal_torn,
        journal_ahead,
        symlink,
        feedback_temp,
        next_generation,
        incoming,
        pole_folder_missing,
        pole_folder_a_file,
        snapshot_behind,
        wal,
        corrupt,
    ],
)
def test_work_or_housekeeping_or_doubt_sends_the_run_through_the_flow(done, change):
    change(done)
    before = tree(done.home)
    assert idle_report(done) is None
    assert tree(done.home) == before  # the look wrote nothing, even then


def test_a_submission_waiting_for_another_try_is_work(done, make_workbook):
    import duckdb

    con = duckdb.connect(str(done.snapshot_db))
    con.execute("UPDATE submissions SET status = 'en_attente'")
    con.close()
    assert idle_report(done) is None


def test_publication_is_up_to_date_until_something_it_rests_on_changes(done, make_workbook):
    assert up_to_date(done) == [2024]
    leftover = done.publications_for("public") / ".tmp-2024-4242"
    leftover.mkdir()
    assert up_to_date(done) is None
    leftover.rmdir()
    drop(done, "PTCE-002", "suivi.xlsx", make_workbook("PTCE-002", 2024))
    run_ingest(done)
    assert up_to_date(done) is None  # the period's data changed
    assert publish(done).published == [2024]
    assert up_to_date(done) == [2024]


def test_the_journal_tail_is_read_from_the_end(home):
    journal = Journal(home)
    assert journal.tail_seq() == 0  # no journal yet
    for k in range(3):
        journal.add({"type": "note", "text": "x" * (50_000 * k)})  # the last one > 64 KiB
    journal.flush()
    assert journal.tail_seq() == Journal(home).next_seq() - 1 == 3
    with open(home.journal_path, "ab") as fh:
        fh.write(b'{"seq": 4')
    assert journal.tail_seq() is None
