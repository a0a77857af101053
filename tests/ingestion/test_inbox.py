"""Finding files in the inbox: settle delay on this machine's clock, junk ignored silently,
symbolic links never followed, `retours/` never read."""

from __future__ import annotations

import os
import time

import pytest
from helpers.workbooks import drop

from ptce_pipeline.ingestion.inbox import ignored, read_candidate, remove_claimed, scan_inbox


@pytest.mark.parametrize(
    "name",
    [
        "~$suivi.xlsx",  # Office owner file
        ".~lock.suivi.xlsx#",  # LibreOffice lock
        ".suivi.xlsx",
        "._suivi.xlsx",  # macOS resource fork
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "suivi.xlsx.tmp",
        "suivi.TMP",
        "suivi.xlsx.part",
        "suivi.xlsx.partial",
        "suivi.xlsx.crdownload",
        "suivi.xlsx.download",
        "suivi.xlsx.inprogress",
        "suivi.xlsx.filepart",
        ".suivi.xlsx.swp",
    ],
)
def test_junk_names_are_ignored(name):
    assert ignored(name)


@pytest.mark.parametrize(
    "name",
    [
        "suivi.xlsx",
        "Suivi 2025 (v2).xlsx",
        "suivi.ods",
        "tmp_suivi.xlsx",
        "lock.xlsx",
        "~suivi_2025.xlsx",  # a `~` name is not Office's `~$` owner file
    ],
)
def test_real_names_are_not(name):
    assert not ignored(name)


def test_scan_sees_settled_files_only_and_says_nothing_of_junk(home):
    drop(home, "PTCE-001", "suivi.xlsx", b"x")
    drop(home, "PTCE-001", "~$suivi.xlsx", b"x")
    drop(home, "PTCE-001", ".~lock.suivi.xlsx#", b"x")
    (home.inbox / "PTCE-001" / "retours").mkdir()
    drop(home, "PTCE-001", "retours/ancien_annote.xlsx", b"x")
    (home.inbox / "PTCE-001" / ".cache").mkdir()
    drop(home, "PTCE-001", ".cache/x.xlsx", b"x")
    now = time.time()
    scan = scan_inbox(home, 30, now=now)
    assert [c.name for c in scan.ready] == []
    assert [p.name for p in scan.waiting] == ["suivi.xlsx"]
    scan = scan_inbox(home, 30, now=now + 31)
    assert [(c.folder, c.name) for c in scan.ready] == [("PTCE-001", "suivi.xlsx")]
    assert not scan.waiting and not scan.unreadable and not scan.symlinks


def test_settle_delay_follows_this_machines_clock_not_the_senders(home):
    """A copy tool that restores the sender's mtime (an hour ago, or tomorrow because the
    sender's clock is wrong) neither hurries nor blocks the settle delay."""
    old = drop(home, "PTCE-001", "ancien.xlsx", b"x")
    future = drop(home, "PTCE-002", "futur.xlsx", b"x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    os.utime(future, (time.time() + 86400, time.time() + 86400))
    now = time.time()
    assert sorted(p.name for p in scan_inbox(home, 30, now=now).waiting) == [
        "ancien.xlsx",
        "futur.xlsx",
    ]
    assert sorted(c.name for c in scan_inbox(home, 30, now=now + 31).ready) == [
        "ancien.xlsx",
        "futur.xlsx",
    ]


def test_symbolic_links_are_reported_never_followed(home, tmp_path):
    secret = tmp_path / "secret.xlsx"
    secret.write_bytes(b"secret")
    (home.inbox / "PTCE-001").mkdir(parents=True)
    os.symlink(secret, home.inbox / "PTCE-001" / "lien.xlsx")
    os.symlink(tmp_path, home.inbox / "PTCE-002")
    scan = scan_inbox(home, 0)
    assert sorted(p.name for p in scan.symlinks) == ["PTCE-002", "lien.xlsx"]
    assert not scan.ready


def test_a_file_changed_after_the_scan_is_not_read_nor_removed(home):
    path = drop(home, "PTCE-001", "suivi.xlsx", b"version 1")
    (candidate,) = scan_inbox(home, 0).ready
    path.write_bytes(b"version 2, longer")
    assert read_candidate(candidate) is None
    remove_claimed(candidate, home.inbox)
    assert path.read_bytes() == b"version 2, longer"
