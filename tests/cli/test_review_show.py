"""`ptce review show` (issue 19): the reviewer's view in French on the terminal, and `--json`
in the documented shape, over a real home where a pole resubmitted (tests/helpers/reviews.py)."""

from __future__ import annotations

import json

import pytest
from helpers.reviews import review_story

from ptce_pipeline.cli.parser import main
from ptce_pipeline.content import display_number
from ptce_pipeline.store.review_view import review_view
from ptce_pipeline.store.warehouse import connect


@pytest.fixture(scope="module")
def story(tmp_path_factory, ref):
    return review_story(tmp_path_factory.mktemp("rshow") / "home", ref)


@pytest.fixture(scope="module")
def v2_view(story, ref):
    con = connect(story["settings"].snapshot_db, read_only=True)
    try:
        return review_view(con, story["ids"]["v2.xlsx"], ref)
    finally:
        con.close()


def test_cli_review_show_text_and_json(story, v2_view, capsys):
    settings, ids = story["settings"], story["ids"]
    capsys.readouterr()
    assert main(["review", "show", str(ids["v2.xlsx"]), "--home", str(settings.home)]) == 0
    text = capsys.readouterr().out
    assert f"Changements depuis le dépôt n° {ids['v1.xlsx']} (même période) :" in text
    assert f"Changements depuis 2024 (période précédente) — dépôt n° {ids['p2024.xlsx']} :" in text
    before, after = (display_number(story[k].indicators["IND05"]) for k in ("v1", "v2"))
    assert f"Indicateurs!F12 — IND05 Bénéficiaires des activités : « {before} » → « {after} »" in (
        text
    )
    assert "Membres!C6 — membre « " in text and ", SIRET : « " in text
    assert "Avertissements (1) :" in text
    assert "Commentaire du pôle : « Nouveau financement régional »" in text
    assert "Historique :" in text and "relecture du n°" in text and "par Alice" in text
    assert (
        main(["review", "show", str(ids["v2.xlsx"]), "--home", str(settings.home), "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["changes"] == v2_view.to_json()["changes"]
    assert data["warnings"][0]["pole_comment"] == "Nouveau financement régional"
    assert data["compared"]["period"] == {"submission_id": ids["p2024.xlsx"], "period": 2024}
    assert main(["review", "show", "999", "--home", str(settings.home)]) == 2
