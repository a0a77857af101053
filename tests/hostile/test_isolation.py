"""Isolation between poles (issue 15): whatever one pole's folder holds, every other pole's
files are decided in the same run; the bad entry is archived when it can be read, set aside
(outcome `ecartee`, `warehouse/quarantine/`) or left for the next run, and reported in French,
once — never a national stop. Nothing is written outside the home.

Real files, real runs (`run_ingest`, and `ptce ingest` in a subprocess); a folder the pole
locked, or a read-only archive, is made with `chattr +i` (the tests run as root, whom file
modes do not stop), and skipped where the file system does not support it."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from helpers import tally
from helpers.costly import Peaks
from helpers.procs import Procs, env_for, harness_url
from helpers.workbooks import drop, filled, make_home, q, workbook
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.inbox import ignored
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store.journal import Journal

OTHERS = ("PTCE-002", "PTCE-003")
ACCEPTED = ("acceptee", "acceptee_avec_avertissements")
MIB = 1 << 20


@pytest.fixture(scope="module")
def books(ref) -> dict[str, bytes]:
    return {p: workbook(ref, filled(ref, p, 2024)) for p in ("PTCE-001", *OTHERS)}


@contextlib.contextmanager
def case(name: str):
    """Record one hostile case in the suite's tally: held when the test's promises held."""
    held = False
    try:
        yield
        held = True
    finally:
        tally.case("isolation", name, held)


def world(tmp_path: Path, books, **env):
    """A home whose other poles each dropped one valid workbook."""
    s = make_home(tmp_path / "home", **env)
    for pole in OTHERS:
        drop(s, pole, "suivi.xlsx", books[pole])
    return s


def others_decided(s) -> None:
    """Every other pole's file was decided (accepted) in this run, and left the inbox."""
    rows = q(
        s.live_db,
        "SELECT inbox_folder, status FROM submissions WHERE inbox_folder IN (?, ?) ORDER BY 1",
        *OTHERS,
    )
    assert [f for f, st_ in rows if st_ in ACCEPTED] == list(OTHERS), rows
    for pole in OTHERS:
        assert not (s.inbox / pole / "suivi.xlsx").exists()


def only_home(tmp_path: Path, *also: str) -> None:
    """Nothing written beside the home (the test's own folders excepted)."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["home", *also])


def journal(s) -> list[dict]:
    return list(Journal(s).read())


def french(lines: list[str]) -> str:
    text = "\n".join(lines)
    text.encode("utf-8")  # printable: no lone surrogate reaches a terminal
    assert "Fichiers reçus" in text
    return text


@contextlib.contextmanager
def immutable(path: Path):
    """`chattr +i` on a folder for the time of the block (root ignores file modes)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr absent")
    res = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if res.returncode != 0:
        pytest.skip("chattr +i refusé par ce système de fichiers")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


# --- names -------------------------------------------------------------------------------------
def test_a_name_that_is_not_utf8_is_journaled_with_its_bytes(tmp_path, books):
    with case("nom-non-utf8"):
        s = world(tmp_path, books)
        raw = b"r\xe9sum\xe9.xlsx"  # as an old Windows share writes it
        folder = s.inbox / "PTCE-001"
        folder.mkdir(parents=True)
        with open(os.path.join(bytes(folder), raw), "wb") as fh:
            fh.write(books["PTCE-001"])
        report = run_ingest(s)
        others_decided(s)
        assert not report.needs_attention, report.summary_lines()
        (rec,) = [r for r in journal(s) if r.get("folder") == "PTCE-001"]
        assert rec["name"] == "r\ufffdsum\ufffd.xlsx"
        assert base64.b64decode(rec["name_b64"]) == raw
        assert os.listdir(bytes(folder)) == [b"retours"]
        (line,) = [f for f in report.files if f.folder == "PTCE-001"]
        assert line.name == "r\ufffdsum\ufffd.xlsx" and line.status in ACCEPTED
        assert [p for p in (folder / "retours").iterdir() if p.name.endswith("_recu.html")]
        french(report.summary_lines())
        assert run_ingest(s).nothing_new
        # a folder whose name is not UTF-8: an unknown sender, archived, the run goes on
        odd = os.path.join(bytes(s.inbox), b"P\xf4le")
        os.mkdir(odd)
        with open(os.path.join(odd, b"suivi.xlsx"), "wb") as fh:
            fh.write(books["PTCE-001"])
        report = run_ingest(s)
        assert [(f.folder, f.outcome) for f in report.files] == [
            ("P\ufffdle", "expediteur_inconnu")
        ]
        french(report.summary_lines())
        only_home(tmp_path)


def test_a_name_starting_with_a_tilde_is_a_pole_file_not_junk(tmp_path, books):
    with case("tilde-pas-un-verrou"):
        s = world(tmp_path, books)
        drop(s, "PTCE-001", "~suivi_2025.xlsx", books["PTCE-001"])
        drop(s, "PTCE-001", "~$suivi_2025.xlsx", b"owner file of Office")
        report = run_ingest(s)
        others_decided(s)
        assert [(f.name, f.status in ACCEPTED) for f in report.files if f.folder == "PTCE-001"] == [
            ("~suivi_2025.xlsx", True)
        ]
        assert (s.inbox / "PTCE-001" / "~$suivi_2025.xlsx").exists()  # junk: left, unread
        only_home(tmp_path)


def test_journal_flush_never_raises_on_a_name():
    import tempfile

    from ptce_pipeline.config import load_settings

    with tempfile.TemporaryDirectory() as d:
        s = load_settings({}, home=Path(d))
        j = Journal(s)
        j.add({"type": "delivery", "name": os.fsdecode(b"a\xff\xfe\n\x1b.xlsx")})
        j.flush()
        (rec,) = j.read()
        assert rec["name"].startswith("a")


# --- folders in the wrong shape ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("fichier-retours", "PTCE-001/retours"),
        ("dossier-pole-fichier", "PTCE-001"),
        ("inbox-fichier", "inbox"),
    ],
)
def test_an_entry_in_the_wrong_shape_is_set_aside(tmp_path, books, name, where):
    with case(name):
        s = world(tmp_path, books)
        if where == "inbox":
            shutil.rmtree(s.inbox)
            s.inbox.write_bytes(b"pas un dossier")
            bad = s.inbox
        else:
            bad = s.inbox / where
            bad.parent.mkdir(parents=True, exist_ok=True)
            if where.endswith("retours"):
                drop(s, "PTCE-001", "suivi.xlsx", books["PTCE-001"])
            bad.write_bytes(b"pas un dossier")
        report = run_ingest(s)
        assert report.needs_attention  # exit 1: attention
        text = french(report.summary_lines())
        assert "Écarté (mis de côté, non chargé)" in text and "dossier recréé" in text, text
        if where != "inbox":
            others_decided(s)
        (rec,) = [r for r in journal(s) if r.get("set_aside")]
        kept = s.home / rec["quarantined_path"]
        assert kept.read_bytes() == b"pas un dossier"
        assert (s.home / rec["archived_path"]).read_bytes() == b"pas un dossier"
        assert q(s.live_db, "SELECT outcome FROM deliveries WHERE delivery_id = ?", rec["seq"]) == [
            ("ecartee",)
        ]
        assert (s.inbox / "PTCE-001" / "retours").is_dir()
        if where.endswith("retours"):  # the pole's own file went on, its receipt too
            assert any(p.name.endswith("_recu.html") for p in bad.iterdir())
        again = run_ingest(s)  # reported once
        assert again.nothing_new and not again.set_aside and not again.needs_attention
        rebuilt = corrections.rebuild(s, tmp_path / "rebuilt")  # the journal says it all
        assert "Identique à l'entrepôt vivant." in rebuilt.lines, rebuilt.lines
        only_home(tmp_path, "rebuilt")


def test_a_pole_folder_whose_files_cannot_be_removed(tmp_path, books):
    with case("dossier-verrouille"):
        s = world(tmp_path, books)
        drop(s, "PTCE-001", "suivi.xlsx", books["PTCE-001"])
        (s.inbox / "PTCE-001" / "retours").mkdir()
        with immutable(s.inbox / "PTCE-001"):
            report = run_ingest(s)
            others_decided(s)
            assert report.needs_attention
            text = french(report.summary_lines())
            assert "impossible à retirer de la boîte de dépôt : PTCE-001/suivi.xlsx" in text
            (line,) = [f for f in report.files if f.folder == "PTCE-001"]
            assert line.status in ACCEPTED  # decided all the same
            again = run_ingest(s)  # reported once, never claimed twice
            assert again.nothing_new and not again.not_removed and not again.needs_attention
            assert q(s.live_db, "SELECT count(*) FROM deliveries") == [(3,)]
        run_ingest(s)  # unlocked: the file now leaves the inbox, silently
        assert not (s.inbox / "PTCE-001" / "suivi.xlsx").exists()
        assert q(s.live_db, "SELECT count(*) FROM deliveries") == [(3,)]
        only_home(tmp_path)


# --- size --------------------------------------------------------------------------------------
def test_a_file_over_the_size_bound_is_kept_whole_in_the_quarantine(tmp_path, books):
    with case("au-dela-de-la-taille"):
        s = world(tmp_path, books, PTCE_MAX_FILE_BYTES=str(2 * MIB))
        big = s.inbox / "PTCE-001" / "enorme.xlsx"
        big.parent.mkdir(parents=True)
        with open(big, "wb") as fh:
            fh.truncate(64 * MIB)  # sparse
        report = run_ingest(s)
        others_decided(s)
        assert report.needs_attention
        text = french(report.summary_lines())
        assert "PTCE-001/enorme.xlsx : trop volumineux (64,0 Mo, soit 67108864 octets, " in text
        assert "pour une limite de 2,0 Mo)" in text
        (rec,) = [r for r in journal(s) if r.get("set_aside")]
        assert (rec["set_aside"], rec["size"], rec["archived_path"]) == ("too-large", 64 * MIB, "")
        assert (s.home / rec["quarantined_path"]).stat().st_size == 64 * MIB
        assert not big.exists()
        assert not [p for p in s.archive_dir.iterdir() if p.is_file() and p.stat().st_size > MIB]
        assert q(
            s.live_db, "SELECT outcome, size FROM deliveries WHERE inbox_folder = 'PTCE-001'"
        ) == [("ecartee", 64 * MIB)]
        assert run_ingest(s).nothing_new
        only_home(tmp_path)


# --- the real command line ----------------------------------------------------------------------
@pytest.mark.usefixtures("prefect_harness")
def test_ptce_ingest_isolates_every_pole_and_exits_1(tmp_path, books):
    """`ptce ingest` in its own process: a 2 GiB sparse file, a name that is not UTF-8 and a
    pole folder that is a file, beside two valid files. Peak memory of every process of the
    run stays under the README's bound (1 GB); nothing is left in the system temp folder."""
    with case("cli-trois-poles-hostiles"):
        s = world(tmp_path, books)
        (s.inbox / "PTCE-004").write_bytes(b"pas un dossier")
        folder = s.inbox / "PTCE-001"
        folder.mkdir()
        with open(folder / "deux-gio.xlsx", "wb") as fh:
            fh.truncate(2 << 30)  # sparse
        with open(os.path.join(bytes(folder), b"r\xe9sum\xe9.xlsx"), "wb") as fh:
            fh.write(books["PTCE-001"])
        systmp = tmp_path / "systmp"
        systmp.mkdir()
        procs = Procs()
        try:
            env = env_for(s, api_url=harness_url(), TMPDIR=str(systmp))
            proc = procs.ptce("ingest", "--settle", "0", "--home", str(s.home), env=env)
            peaks = Peaks(proc.pid)  # every process of the command's session, polled
            res = procs.wait(proc, timeout=600)
            peak_mb = peaks.stop()
        finally:
            procs.close()
        assert res.code == 1, res
        assert "trop volumineux (2048,0 Mo" in res.out, res.out
        assert "PTCE-004 : un fichier occupait la place du dossier du pôle" in res.out
        assert "Erreur" not in res.out and "Traceback" not in res.err
        others_decided(s)
        outcomes = q(
            s.live_db,
            "SELECT original_name, outcome FROM deliveries WHERE inbox_folder <> '' ORDER BY 1",
        )
        assert ("r\ufffdsum\ufffd.xlsx", "nouvelle") in outcomes
        assert ("deux-gio.xlsx", "ecartee") in outcomes and ("PTCE-004", "ecartee") in outcomes
        assert peak_mb < 1024, f"peak memory of a process of the run: {peak_mb} MB"
        assert list(systmp.iterdir()) == []
        only_home(tmp_path, "systmp")


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_of_scheduled_runs_isolates_too(tmp_path, books):
    """The Prefect flow `ptce serve` schedules (`ingest-inbox`), in this process: a file named
    `retours` and a name that is not UTF-8 beside two valid files; the artifact says it."""
    from prefect.artifacts import Artifact

    from ptce_pipeline.flows.ingest import ARTIFACT_KEY, ingest_inbox

    with case("flux-planifie"):
        s = world(tmp_path, books)
        folder = s.inbox / "PTCE-001"
        folder.mkdir()
        (folder / "retours").write_bytes(b"pas un dossier")
        with open(os.path.join(bytes(folder), b"r\xe9sum\xe9.xlsx"), "wb") as fh:
            fh.write(books["PTCE-001"])
        state = ingest_inbox(home=str(s.home), settle=0, return_state=True)
        assert state.is_completed(), state.message
        report = state.result()
        assert report["needs_attention"] and report["new"] == 3, report
        others_decided(s)
        (line,) = report["set_aside"]
        assert line.startswith("PTCE-001/retours : un fichier nommé « retours »"), line
        text = Artifact.get(ARTIFACT_KEY).data
        # the artifact's Markdown is inert (every punctuation escaped, names in code spans):
        # read it back as the text a person sees
        seen = re.sub(r"\\(.)", r"\1", text).replace("`", "")
        assert "Écarté (mis de côté, non chargé) : PTCE-001/retours" in seen, text
        assert "r\ufffdsum\ufffd.xlsx" in str(report["files"])
        assert (folder / "retours").is_dir()
        only_home(tmp_path)


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("folder", ["archive", "warehouse"])
def test_a_read_only_warehouse_stops_before_claiming(tmp_path, books, folder):
    with case(f"lecture-seule-{folder}"):
        s = world(tmp_path, books)
        run_ingest(s)
        drop(s, "PTCE-001", "suivi.xlsx", books["PTCE-001"])
        before = journal(s)
        target = s.archive_dir if folder == "archive" else s.warehouse_dir
        procs = Procs()
        with immutable(target):
            try:
                env = env_for(s, api_url=harness_url())
                res = procs.run("ingest", "--settle", "0", "--home", str(s.home), env=env)
            finally:
                procs.close()
        assert res.code == 2, res
        assert "impossible d'écrire dans" in res.err + res.out, res
        assert "aucun fichier n'a été pris" in res.err + res.out
        assert (s.inbox / "PTCE-001" / "suivi.xlsx").exists()
        assert journal(s) == before


# --- property: names from raw bytes --------------------------------------------------------------
def _usable(raw: bytes) -> bool:
    name = os.fsdecode(raw)
    return raw not in (b".", b"..", b"retours") and not ignored(name)


NAME_BYTES = (
    st.binary(min_size=1, max_size=250)
    .map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_"))
    .filter(_usable)
)


@settings(
    max_examples=12,
    deadline=None,
    database=None,  # nothing written into the current directory
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(NAME_BYTES, min_size=1, max_size=6, unique=True))
@example(names=[b"r\xe9sum\xe9.xlsx", b"\xff\xfe.ods"])
@example(names=[b"ligne\nforg\xc3\xa9e\r\x1b[31m\x07.xlsx", b"\x01\x02\x7f"])
@example(names=[b"x" * 250, "é.xlsx".encode(), unicodedata.normalize("NFD", "é.xlsx").encode()])
def test_any_name_is_archived_journaled_and_reported(tmp_path_factory, books, names):
    """Each generated name (bytes as a file system holds them) is archived, journaled with its
    exact bytes and reported, and the other poles' files are decided in the same run."""
    with case("noms-generes"):
        root = tmp_path_factory.mktemp("noms")
        s = world(root, books)
        folder = s.inbox / "PTCE-001"
        folder.mkdir(parents=True)
        for i, raw in enumerate(names):
            with open(os.path.join(bytes(folder), raw), "wb") as fh:
                fh.write(b"contenu %d" % i)  # not a workbook: refused, with a receipt
        report = run_ingest(s)
        others_decided(s)
        recs = [r for r in journal(s) if r.get("type") == "delivery" and r["folder"] == "PTCE-001"]
        got = sorted(
            base64.b64decode(r["name_b64"]) if "name_b64" in r else r["name"].encode() for r in recs
        )
        assert got == sorted(names)
        for r in recs:
            assert (s.home / r["archived_path"]).is_file()
        shown = {f.name for f in report.files if f.folder == "PTCE-001"}
        assert shown == {r["name"] for r in recs}
        french(report.summary_lines())
        assert [p.name for p in folder.iterdir()] == ["retours"]
        only_home(root)
