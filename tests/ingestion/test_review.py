"""National review (issue 19): sign-off, send-back with a comment and its notice, a new file
starting again at `a_revoir`, the same bytes changing nothing, rebuild reproducing every
decision, and the migration of a warehouse made before review existed."""

from __future__ import annotations

import copy
import json

import pytest
from helpers.workbooks import drop, filled, make_home, q, workbook

from ptce_pipeline.cli.parser import main
from ptce_pipeline.errors import ConfigError, NotFound
from ptce_pipeline.ingestion import corrections
from ptce_pipeline.ingestion.review import decide
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store.journal import Journal
from ptce_pipeline.store.warehouse import connect


def states(settings) -> dict[int, tuple]:
    return {
        r[0]: r[1:]
        for r in q(
            settings.live_db,
            "SELECT submission_id, status, review_state, reviewed_by, review_comment "
            "FROM submissions",
        )
    }


def sid_of(settings, name: str) -> int:
    return q(
        settings.live_db, "SELECT submission_id FROM submissions WHERE original_name = ?", name
    )[0][0]


def make(ref, pole_id, period, change=None) -> bytes:
    data = copy.deepcopy(filled(ref, pole_id, period))
    if change is not None:
        change(data)
    return workbook(ref, data)


@pytest.fixture
def home(tmp_path, ref):
    settings = make_home(tmp_path / "home", PTCE_USER="revue")
    drop(settings, "PTCE-001", "a.xlsx", make(ref, "PTCE-001", 2024))
    drop(settings, "PTCE-002", "b.xlsx", make(ref, "PTCE-002", 2024))
    drop(settings, "PTCE-003", "c.xlsx", make(ref, "PTCE-003", 2024))
    run_ingest(settings)
    return settings


def test_accepted_declarations_wait_for_review(home):
    assert {s[1] for s in states(home).values()} == {"a_revoir"}


def test_sign_off_and_send_back_are_journaled_with_notice_and_version_bump(home):
    a, b = sid_of(home, "a.xlsx"), sid_of(home, "b.xlsx")
    version = q(home.live_db, "SELECT version FROM period_versions WHERE period = 2024")[0][0]
    result = decide(home, [a], "validee", comment=None, by="Alice")
    assert any("à relire → validée" in line for line in result.lines)
    result = decide(
        home, [b], "a_corriger", comment="ETP de la ligne 12 : 120 ? <b>vérifiez</b>", by="Alice"
    )
    st = states(home)
    assert st[a][1:3] == ("validee", "Alice")
    assert st[b][1:] == ("a_corriger", "Alice", "ETP de la ligne 12 : 120 ? <b>vérifiez</b>")
    # the period's data version changed once per decision (it republishes)
    assert q(home.live_db, "SELECT version FROM period_versions WHERE period = 2024")[0][0] == (
        version + 2
    )
    kinds = [r["type"] for r in Journal(home).read()]
    assert kinds.count("review") == 2
    audit = q(home.live_db, "SELECT by_user, action, reason FROM audit WHERE action = 'review'")
    assert ("Alice", "review", "ETP de la ligne 12 : 120 ? <b>vérifiez</b>") in audit
    # the notices, in the poles' retours/, quote the comment escaped
    notices = sorted((home.inbox / "PTCE-002" / "retours").glob("*_relecture.html"))
    assert len(notices) == 1
    text = notices[0].read_text("utf-8")
    assert "À corriger" in text and "&lt;b&gt;vérifiez&lt;/b&gt;" in text
    assert "<b>vérifiez" not in text and "déposez-le de nouveau" in text
    signed = next((home.inbox / "PTCE-001" / "retours").glob("*_relecture.html"))
    assert "Validée par l&#x27;équipe nationale" in signed.read_text("utf-8")
    # approving again changes nothing
    version = q(home.live_db, "SELECT version FROM period_versions WHERE period = 2024")[0][0]
    result = decide(home, [a], "validee", comment=None, by="Alice")
    assert not result.changed and "déjà validée" in result.lines[0]
    assert (
        q(home.live_db, "SELECT version FROM period_versions WHERE period = 2024")[0][0] == version
    )


def test_send_back_needs_a_comment_and_bad_ids_change_nothing(home):
    a = sid_of(home, "a.xlsx")
    with pytest.raises(ConfigError, match="commentaire est obligatoire"):
        decide(home, [a], "a_corriger", comment="  \x07 ", by="x")
    with pytest.raises(NotFound, match="aucun dépôt n° 999"):
        decide(home, [a, 999], "validee", comment=None, by="x")
    assert states(home)[a][1] == "a_revoir"  # all or none


def test_resubmission_starts_again_and_same_bytes_keep_a_corriger(home, ref):
    a = sid_of(home, "a.xlsx")
    decide(home, [a], "a_corriger", comment="Corrigez IND01", by="x")
    # the same bytes again (another name): nothing changes
    archived = q(home.live_db, "SELECT archived_path FROM submissions WHERE submission_id = ?", a)
    path = home.home / archived[0][0]
    drop(home, "PTCE-001", "a-encore.xlsx", path.read_bytes())
    run_ingest(home)
    assert states(home)[a][:2] == ("acceptee", "a_corriger")
    assert len(states(home)) == 3  # no new submission
    # a corrected file: new submission in force, a_revoir; the old one replaced, keeps its state
    fixed = make(ref, "PTCE-001", 2024, change=lambda d: d.indicators.update(IND01=7))
    drop(home, "PTCE-001", "a-corrige.xlsx", fixed)
    run_ingest(home)
    st = states(home)
    new = sid_of(home, "a-corrige.xlsx")
    assert st[new][:2] in (("acceptee", "a_revoir"), ("acceptee_avec_avertissements", "a_revoir"))
    assert st[a][:2] == ("remplacee", "a_corriger")
    # only the version in force can be reviewed
    with pytest.raises(NotFound, match=f"relisez le dépôt n° {new}"):
        decide(home, [a], "validee", comment=None, by="x")


def test_rebuild_reproduces_every_review_decision(home, tmp_path):
    a, b, c = (sid_of(home, n) for n in ("a.xlsx", "b.xlsx", "c.xlsx"))
    decide(home, [a, c], "validee", comment=None, by="Alice")
    decide(home, [b], "a_corriger", comment="Membres : SIRET manquants", by="Bob")
    result = corrections.rebuild(home, tmp_path / "rebuilt")
    assert "Identique à l'entrepôt vivant." in result.lines


def test_cli_review_verbs(home, capsys, monkeypatch):
    monkeypatch.setenv("PTCE_USER", "revue")
    a, b = sid_of(home, "a.xlsx"), sid_of(home, "b.xlsx")
    assert main(["review", "approve", str(a), "--home", str(home.home), "--by", "Chloé"]) == 0
    assert (
        main(
            ["review", "send-back", str(b), "--comment", "Vérifiez IND05", "--home", str(home.home)]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["review", "list", "--home", str(home.home), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {r["submission_id"]: r for r in rows}
    assert by_id[a]["review_state"] == "validee" and by_id[a]["reviewed_by"] == "Chloé"
    assert by_id[b]["review_state"] == "a_corriger" and by_id[b]["reviewed_by"] == "revue"
    assert rows[0]["review_state"] == "a_revoir"  # what waits comes first
    assert main(["review", "list", "--home", str(home.home), "--state", "a_corriger"]) == 0
    text = capsys.readouterr().out
    assert "à corriger" in text and "« Vérifiez IND05 »" in text and f"n° {a} " not in text
    assert main(["review", "approve", "999", "--home", str(home.home)]) == 2


def test_migration_of_a_warehouse_made_before_review(tmp_path, ref):
    """A warehouse at schema 3 (before review): accepted contents of closed campaigns are
    signed off by the migration, those of open campaigns wait; the backfill is journaled, so a
    rebuild gives the same states."""
    settings = make_home(tmp_path / "old")
    drop(settings, "PTCE-001", "a.xlsx", make(ref, "PTCE-001", 2024))
    drop(settings, "PTCE-002", "b.xlsx", make(ref, "PTCE-002", 2025))
    run_ingest(settings)
    corrections.campaign(settings, 2024, close=True, reason="fin", by="x")
    # take the live warehouse back to schema 3: what an older version left
    con = connect(settings.live_db)
    for col in ("review_state", "reviewed_at", "reviewed_by", "review_comment"):
        con.execute(f"ALTER TABLE submissions DROP COLUMN {col}")
    con.execute("ALTER TABLE campaigns DROP COLUMN keep_unreviewed")
    con.execute("DELETE FROM schema_migrations WHERE version >= 4")
    con.execute("CHECKPOINT")
    con.close()
    lines = [
        ln for ln in settings.journal_path.read_text("utf-8").splitlines() if '"review' not in ln
    ]
    settings.journal_path.write_text("\n".join(lines) + "\n", "utf-8")
    run_ingest(settings)  # upgrades the schema
    st = {
        r[0]: r[1:]
        for r in q(
            settings.live_db, "SELECT original_name, review_state, reviewed_by FROM submissions"
        )
    }
    assert st["a.xlsx"] == ("validee", "migration")
    assert st["b.xlsx"] == ("a_revoir", None)
    recs = [r for r in Journal(settings).read() if r["type"] == "review_migration"]
    assert len(recs) == 1
    result = corrections.rebuild(settings, tmp_path / "rebuilt")
    assert "Identique à l'entrepôt vivant." in result.lines
    run_ingest(settings)  # a later run journals nothing more
    assert len([r for r in Journal(settings).read() if r["type"] == "review_migration"]) == 1
