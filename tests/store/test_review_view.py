"""The reviewer's view (issue 19): a real home where a pole resubmits with one indicator changed,
one member's SIRET changed, a member added and one removed, a criterion answered differently,
over a previous period; the diff names the changed cells exactly, warnings carry the pole's
own comment, the history lists deliveries and decisions (`ptce review show`:
tests/cli/test_review_show.py). The member matching and the change shape are unit-tested on plain rows."""

from __future__ import annotations

import copy

import pytest
from helpers.reviews import POLE, review_story, sid_of
from helpers.workbooks import drop, filled, make_home, workbook

from ptce_pipeline.content import display_number
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.store.previous import previous_values
from ptce_pipeline.store.review_diff import Declaration, Labels, diff, match_members
from ptce_pipeline.store.review_view import review_view
from ptce_pipeline.store.warehouse import connect

CHANGE_KEYS = [
    "against",
    "against_id",
    "against_period",
    "kind",
    "change",
    "key",
    "label",
    "field",
    "sheet",
    "cell",
    "before",
    "after",
]


@pytest.fixture(scope="module")
def story(tmp_path_factory, ref):
    return review_story(tmp_path_factory.mktemp("rview") / "home", ref)


def view_of(story, name: str, ref):
    con = connect(story["settings"].snapshot_db, read_only=True)
    try:
        return review_view(con, story["ids"][name], ref)
    finally:
        con.close()


@pytest.fixture(scope="module")
def v2_view(story, ref):
    return view_of(story, "v2.xlsx", ref)


def brief(changes, against):
    return [
        (c["kind"], c["change"], c["field"], f"{c['sheet']}!{c['cell']}", c["before"], c["after"])
        for c in changes
        if c["against"] == against
    ]


def test_changes_since_the_previous_submission_name_the_cells(story, v2_view):
    ids, v1, v2 = story["ids"], story["v1"], story["v2"]
    rows_added = 5 + len(v2.members) - 1  # members start on row 5 of Membres
    assert v2_view.compared["submission"] == {"submission_id": ids["v1.xlsx"], "period": 2025}
    assert brief(v2_view.changes, "submission") == [
        (
            "value",
            "changed",
            None,
            "Indicateurs!F12",
            display_number(v1.indicators["IND05"]),
            display_number(v2.indicators["IND05"]),
        ),
        ("member", "changed", "siret", "Membres!C6", v1.members[1]["siret"], "73282932000074"),
        (
            "member",
            "added",
            None,
            f"Membres!B{rows_added}",
            None,
            "Coopérative Nouvelle (SIRET 35600000000048)",
        ),
        (
            "member",
            "removed",
            None,
            "Membres!B7",
            f"{story['removed']['nom']} (SIRET {story['removed']['siret']})",
            None,
        ),
        ("criterion", "changed", "answer", "Critères!D6", "Non", "Oui"),
        ("criterion", "added", "justification", "Critères!E6", None, "Convention signée en 2025"),
    ]
    for c in v2_view.changes:
        assert list(c) == CHANGE_KEYS
        assert c["against_id"] in (ids["v1.xlsx"], ids["p2024.xlsx"])
    labels = {c["key"]: c["label"] for c in v2_view.changes if c["kind"] == "value"}
    assert labels["IND05"] == "Bénéficiaires des activités"  # from ref_indicators


def test_changes_since_the_previous_period_agree_with_large_change(story, v2_view):
    settings, ids = story["settings"], story["ids"]
    # the same earlier declaration as the large-change check (store.previous): for 2025, 2024's
    found = previous_values(settings.snapshot_db, {(POLE, 2025)})
    assert found[(POLE, 2025)].submission_id == ids["p2024.xlsx"]
    assert v2_view.compared["period"] == {"submission_id": ids["p2024.xlsx"], "period": 2024}
    period = brief(v2_view.changes, "period")
    d24, v2 = story["d24"], story["v2"]
    assert (
        "value",
        "changed",
        None,
        "Indicateurs!F12",
        display_number(d24.indicators["IND05"]),
        display_number(v2.indicators["IND05"]),
    ) in period
    assert ("member", "changed", "siret", "Membres!C6") in [p[:4] for p in period]
    # the declared period changes every year: not a change worth reading
    assert not [c for c in v2_view.changes if c["key"] == "periode"]
    # every indicator that differs from 2024, and only those, with its cell
    differing = {
        code
        for code, value in v2.indicators.items()
        if display_number(float(value)) != display_number(float(d24.indicators[code]))
    }
    listed = {
        c["key"] for c in v2_view.changes if c["against"] == "period" and c["kind"] == "value"
    }
    assert listed == differing


def test_warnings_carry_the_poles_comment(story, v2_view):
    [warning] = v2_view.warnings
    assert (warning["sheet"], warning["cell"], warning["code"]) == (
        "Indicateurs",
        "F12",
        "large-change",
    )
    assert warning["indicator"] == "IND05"
    assert warning["pole_comment"] == "Nouveau financement régional"


def test_history_lists_deliveries_and_decisions(story, v2_view):
    ids = story["ids"]
    history = [
        (h["action"], h["submission_id"], h["by_user"], h["reason"]) for h in v2_view.history
    ]
    assert history == [
        ("delivery", ids["v1.xlsx"], POLE, None),
        ("review", ids["v1.xlsx"], "Alice", "IND05 ?"),
        ("delivery", ids["v2.xlsx"], POLE, None),
    ]
    assert v2_view.history[0]["notice"].endswith("_v1_recu.html")
    assert v2_view.history[1]["details"] == {"before": "a_revoir", "after": "a_corriger"}


def test_first_declaration_has_nothing_to_compare(story, ref):
    view = view_of(story, "p2024.xlsx", ref)
    assert view.compared == {"submission": None, "period": None}
    assert view.changes == []
    text = "\n".join(view.lines())
    assert "aucun autre dépôt accepté de ce pôle pour cette période" in text
    assert "Changements depuis 2023 (période précédente) : aucune déclaration" in text


# -- pure functions --------------------------------------------------------------------------


def member(nom, siret=None, row=5, **more):
    return {"nom": nom, "siret": siret, "sheet": "Membres", "row_number": row, **more}


def test_members_match_by_siret_first_then_by_folded_name():
    earlier = [
        member("Alpha", "111", row=5),
        member("Coopérative  du Val", None, row=6),
        member("Gamma", "333", row=7),
        member("Delta", "444", row=8),
    ]
    current = [
        member("Alpha renommée", "111 ", row=9),  # same SIRET, new name
        member("COOPERATIVE DU VAL", None, row=5),  # accents, case and spaces folded
        member("Gamma", "999", row=6),  # SIRET changed, same name
        member("Epsilon", "555", row=7),
    ]
    matched, added, removed = match_members(current, earlier)
    assert [(a["nom"], b["nom"]) for a, b in matched] == [
        ("Alpha renommée", "Alpha"),
        ("COOPERATIVE DU VAL", "Coopérative  du Val"),
        ("Gamma", "Gamma"),
    ]
    assert [m["nom"] for m in added] == ["Epsilon"]
    assert [m["nom"] for m in removed] == ["Delta"]


def test_a_member_that_only_moved_has_not_changed():
    cols = {"nom": "B", "siret": "C", "etp": "H"}
    now = Declaration(2, 2025, members=[member("A", "1", row=9, etp=2.5, columns=cols)])
    then = Declaration(1, 2025, members=[member("A", "1", row=5, etp=2.5, columns=cols)])
    assert diff(now, then, "submission", Labels()) == []
    now.members[0]["etp"] = 1234.5
    [change] = diff(now, then, "submission", Labels())
    assert (change["cell"], change["before"], change["after"]) == ("H9", "2,5", "1\u202f234,5")


def test_values_added_removed_and_codes_shown_with_their_labels(ref):
    now = Declaration(
        2,
        2025,
        identity={"structure_forme": ("scic", "Identité", "C10")},
        indicators={"IND01": (3.0, "Indicateurs", "F7"), "IND02": (None, "Indicateurs", "F8")},
    )
    then = Declaration(
        1,
        2024,
        identity={"structure_forme": ("association", "Identité", "C10")},
        indicators={"IND01": (None, "Indicateurs", "F7"), "IND02": (50.0, "Indicateurs", "F8")},
    )
    changes = diff(now, then, "period", Labels(indicators={"IND01": "Communes"}, ref=ref))
    assert [(c["kind"], c["change"], c["cell"], c["before"], c["after"]) for c in changes] == [
        (
            "identity",
            "changed",
            "C10",
            ref.lists["formes_juridiques"].label_of("association"),
            ref.lists["formes_juridiques"].label_of("scic"),
        ),
        ("value", "added", "F7", None, "3"),
        ("value", "removed", "F8", "50", None),
    ]
    assert changes[0]["label"] == "Structure porteuse : forme juridique"
    assert changes[1]["label"] == "Communes" and changes[2]["label"] == "IND02"


def test_previous_period_replaced_since_and_a_refused_file(tmp_path, ref):
    """The 2024 declaration replaced after 2025 was decided: the diff reads the one in force,
    the text says which one the warnings were computed against. A refused file: no data, no
    comparison, but it is in the history."""
    settings = make_home(tmp_path / "home")
    d24 = copy.deepcopy(filled(ref, POLE, 2024))
    drop(settings, POLE, "a2024.xlsx", workbook(ref, d24))
    run_ingest(settings)
    drop(settings, POLE, "b2025.xlsx", workbook(ref, filled(ref, POLE, 2025)))
    run_ingest(settings)
    d24.indicators["IND01"] = d24.indicators["IND01"] + 1
    drop(settings, POLE, "a2024-bis.xlsx", workbook(ref, d24))
    bad = copy.deepcopy(filled(ref, POLE, 2025))
    bad.indicators["IND01"] = "beaucoup"
    drop(settings, POLE, "refus.xlsx", workbook(ref, bad))
    drop(settings, POLE, "illisible.xlsx", b"pas un classeur")
    run_ingest(settings)
    ids = {n: sid_of(settings, n) for n in ("a2024.xlsx", "b2025.xlsx", "a2024-bis.xlsx")}
    refused, unreadable = sid_of(settings, "refus.xlsx"), sid_of(settings, "illisible.xlsx")
    con = connect(settings.snapshot_db, read_only=True)
    try:
        view = review_view(con, ids["b2025.xlsx"], ref)
        refused_view = review_view(con, refused, ref)
        unreadable_view = review_view(con, unreadable, ref)
    finally:
        con.close()
    assert view.facts["previous_submission_id"] == ids["a2024.xlsx"]
    assert view.compared["period"] == {"submission_id": ids["a2024-bis.xlsx"], "period": 2024}
    text = "\n".join(view.lines())
    assert f"calculés par rapport au dépôt n° {ids['a2024.xlsx']}, en vigueur" in text
    assert ("delivery", refused, "refusee") in [
        (h["action"], h["submission_id"], h["status"]) for h in view.history
    ]
    assert refused_view.facts["status"] == "refusee"
    assert refused_view.compared == {"submission": None, "period": None}
    assert refused_view.changes == []
    assert "ce dépôt n'a pas été accepté" in "\n".join(refused_view.lines())
    # a file whose period could not be read: its own delivery at least
    assert unreadable_view.facts["period"] is None
    assert [(h["action"], h["original_name"]) for h in unreadable_view.history] == [
        ("delivery", "illisible.xlsx")
    ]
    assert "période inconnue" in unreadable_view.lines()[0]
