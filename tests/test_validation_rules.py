"""The rules in depth, beyond one case per code: SIRET (La Poste), duplicates, the severity
policy of the cross-indicator rules and their boundaries, plausible periods, composition,
cross-period changes, one pass over every problem, and the messages themselves."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue.registry import Registry
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one
from ptce_pipeline.template import demo
from ptce_pipeline.validation import Context, Item, validate_batch

TODAY = dt.date(2025, 6, 1)
REGISTRY = Registry({p.pole_id: p for p in demo.registry()}, "t")
LA_POSTE = "35600000009075"  # fails Luhn; valid under the La Poste rule (digit sum % 5 == 0)
LUHN_FAILS = "73282932000075"


def run(ref, data: bytes, *, registry=REGISTRY, previous=None, folder="PTCE-001"):
    content = read_one(data, ref, Limits()).content
    ctx = Context(ref=ref, registry=registry, today=TODAY, previous=previous)
    return validate_batch([Item(content, folder)], ctx)[0]


def found(issues) -> list[tuple]:
    return [(i.sheet, i.cell, i.code, i.severity) for i in issues]


# --- SIRET --------------------------------------------------------------------------------------
def test_la_poste_siret_is_valid_and_a_luhn_failure_is_not(ref, make_workbook):
    def sirets(data):
        data.identity["structure_siret"] = LA_POSTE
        data.members[1]["siret"] = "356 000 000 49837"  # La Poste again, typed with spaces
        data.members[3]["siret"] = LUHN_FAILS
        data.members[4]["siret"] = "35600000009076"  # La Poste SIREN, but its rule fails too

    issues = run(ref, make_workbook(change=sirets))
    assert found(issues) == [
        ("Membres", "C8", "invalid-siret", "erreur"),
        ("Membres", "C9", "invalid-siret", "erreur"),
    ]
    assert "la clé de contrôle ne correspond pas" in issues[0].message
    assert issues[0].value == LUHN_FAILS


def test_a_short_siret_says_how_many_digits(ref, make_workbook):
    issues = run(ref, make_workbook(change=lambda d: d.members[0].update(siret="4760013750441")))
    assert found(issues) == [("Membres", "C5", "invalid-siret", "erreur")]
    assert "13 caractères au lieu de 14" in issues[0].message


def test_every_duplicate_siret_cites_the_first_occurrence(ref, make_workbook):
    def dup(data):
        first = data.members[1]["siret"]
        data.members[3]["siret"] = first
        data.members[5]["siret"] = f"{first[:3]} {first[3:6]} {first[6:9]} {first[9:]}"

    issues = run(ref, make_workbook(change=dup))
    assert found(issues) == [
        ("Membres", "C8", "duplicate-siret", "erreur"),
        ("Membres", "C10", "duplicate-siret", "erreur"),
    ]
    assert all("figure déjà en C6" in i.message for i in issues)


def test_members_without_siret_are_not_duplicates(ref, make_workbook):
    def blanks(data):
        for m in data.members[:3]:
            m["siret"] = None

    assert run(ref, make_workbook(change=blanks)) == []


# --- cross-indicator policy -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"IND22": 20, "IND23": 20, "IND24": 20}, []),  # equal: a whole made of one part
        ({"IND08": 55, "IND26": 45}, []),  # exactly 100 %
        (
            {"IND22": 20, "IND23": 20.5, "IND24": 5},
            [("Indicateurs", "F38", "jobs-created-above-direct", "erreur")],
        ),
        (
            {"IND22": 0, "IND23": 0, "IND24": 1},
            [("Indicateurs", "F39", "insertion-above-direct", "erreur")],
        ),
        (
            {"IND08": 55, "IND26": 45.5},
            [("Indicateurs", "F16", "funding-shares-above-100", "avertissement")],
        ),
        ({"IND22": None, "IND23": 30}, [("Indicateurs", "F37", "required-value", "erreur")]),
        ({"IND22": "beaucoup", "IND24": 30}, [("Indicateurs", "F37", "not-a-number", "erreur")]),
    ],
)
def test_cross_indicator_rules(ref, make_workbook, values, expected):
    issues = run(ref, make_workbook(change=lambda d: d.indicators.update(values)))
    assert found(issues) == expected


def test_impossible_is_an_error_unlikely_is_a_warning():
    """The documented policy, as the catalogue states it."""
    assert I.CATALOGUE["insertion-above-direct"].severity == I.ERREUR
    assert I.CATALOGUE["jobs-created-above-direct"].severity == I.ERREUR
    assert I.CATALOGUE["funding-shares-above-100"].severity == I.AVERTISSEMENT
    assert I.CATALOGUE["collectivites-below-members"].severity == I.AVERTISSEMENT


def test_cross_indicator_message_names_both_cells(ref, make_workbook):
    issues = run(ref, make_workbook(change=lambda d: d.indicators.update(IND22=10, IND24=12)))
    assert "(10 ETP, cellule F37)" in issues[0].message and issues[0].cell == "F39"


# --- periods and identity ------------------------------------------------------------------------
def test_a_period_before_the_monitoring_is_not_plausible(ref, make_workbook):
    issues = run(ref, make_workbook(change=lambda d: d.identity.update(periode=2009)))
    assert found(issues) == [("Identité", "C7", "invalid-year", "erreur")]
    assert "entre 2010 et 2025" in issues[0].message


def test_the_current_year_is_a_possible_period(ref, make_workbook):
    assert run(ref, make_workbook(change=lambda d: d.identity.update(periode=2025))) == []


def test_the_period_rules_that_need_no_registry_still_apply(ref, make_workbook):
    def wrong(data):
        data.identity.update(pole_id="PTCE-777", periode=2027)

    issues = run(ref, make_workbook(change=wrong), registry=None, folder=None)
    assert found(issues) == [("Identité", "C7", "period-in-future", "erreur")]


def test_creation_in_the_period_year_and_fill_date_within_the_period_are_fine(ref, make_workbook):
    def same_year(data):
        data.identity.update(annee_creation=2024, date_remplissage=dt.date(2024, 12, 31))

    assert run(ref, make_workbook(change=same_year)) == []


def test_a_fill_date_before_the_period(ref, make_workbook):
    issues = run(
        ref, make_workbook(change=lambda d: d.identity.update(date_remplissage=dt.date(2023, 5, 2)))
    )
    assert found(issues) == [("Identité", "C21", "implausible-fill-date", "avertissement")]
    assert "02/05/2023 est antérieure au début de la période 2024" in issues[0].message


# --- members ---------------------------------------------------------------------------------------
def test_two_members_are_below_the_legal_floor(ref, make_workbook):
    issues = run(
        ref, make_workbook(change=lambda d: setattr(d, "members", [d.members[0], d.members[2]]))
    )
    assert found(issues) == [("Membres", "B7", "too-few-legal-persons", "erreur")]
    assert "2 membres déclarés (au moins 3)" in issues[0].message


def test_no_member_at_all(ref, make_workbook):
    def none(data):
        data.members = []
        data.indicators["IND07"] = 0

    issues = run(ref, make_workbook(change=none))
    assert found(issues) == [("Membres", "B5", "too-few-legal-persons", "erreur")]
    assert (
        "0 membre déclaré (au moins 3) ; aucune entreprise ou réseau de l'ESS ; aucune "
        "entreprise hors ESS. Complétez la feuille Membres." in issues[0].message
    )


def test_five_members_with_the_right_mix_raise_nothing(ref, make_workbook):
    assert run(ref, make_workbook(change=lambda d: setattr(d, "members", d.members[:5]))) == []


# --- cross-period ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "flagged"),
    [
        (100, 1000, False),  # exactly ten times: not more than 10
        (100, 1001, True),
        (1100, 100, True),  # a fall counts too
        (0, 500, False),  # no ratio from zero
        (None, 500, False),  # unknown last year
    ],
)
def test_large_change_against_the_previous_period(ref, make_workbook, old, new, flagged):
    def lookup(pole, period):
        assert (pole, period) == ("PTCE-001", 2024)
        return (2023, {} if old is None else {"IND05": float(old)})

    data = make_workbook(change=lambda d: d.indicators.update(IND05=new))
    issues = run(ref, data, previous=lookup)
    assert found(issues) == (
        [("Indicateurs", "F12", "large-change", "avertissement")] if flagged else []
    )


# --- one pass -------------------------------------------------------------------------------------
def test_every_problem_comes_out_in_one_pass(ref, make_workbook):
    def many(data):
        data.identity["contact_email"] = "pas-une-adresse"
        data.members[2]["categorie"] = "Inconnue"
        data.indicators["IND05"] = "environ 1200"  # the reader cannot coerce it
        data.indicators["IND02"] = 140
        data.criteria["CT3"] = (None, None)

    issues = run(ref, make_workbook(change=many))
    assert [(i.sheet, i.cell, i.code) for i in issues] == [
        ("Identité", "C20", "invalid-email"),
        ("Membres", "D7", "not-in-list"),
        ("Indicateurs", "F8", "out-of-range"),
        ("Indicateurs", "F12", "not-a-number"),
        ("Critères", "D17", "missing-answer"),
    ]


# --- messages -------------------------------------------------------------------------------------
_IMPERATIVE = re.compile(r"\b[A-Za-zÀ-ÿ]+ez(-[a-z]+)?\b")


@pytest.mark.parametrize("code", list(I.CATALOGUE))
def test_every_message_says_how_to_fix_it(code):
    spec = I.CATALOGUE[code]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code)
    assert spec.severity in I.SEVERITIES and spec.title
    assert _IMPERATIVE.search(spec.template), f"{code}: no instruction in « {spec.template} »"
    assert spec.template.rstrip().endswith((".", ")")), code


def test_values_and_parameters_are_escaped_and_shortened():
    issue = I.make(
        "not-a-number",
        sheet="Indicateurs",
        cell="F12",
        value="12\x07\u200b" + "9" * 200,
        label="IND05\x1b[31m rouge",
    )
    assert issue.value.startswith("12\\x07\\u200b9") and len(issue.value) == I.MAX_VALUE_CHARS
    assert issue.value.endswith("…")
    assert "\x1b" not in issue.message and "IND05\\x1b[31m rouge" in issue.message
    assert I.make("not-a-number", value="1\u00a0200", label="x").value == "1 200"


def test_validation_never_opens_a_warehouse():
    """Validation reads contents and the context only: the registry and campaigns from the
    home's files, the previous period through a lookup fed from the analysts' snapshot."""
    root = Path(I.__file__).parent.parent
    modules = [*sorted((root / "validation").glob("*.py")), root / "catalogue" / "issues.py"]
    assert len(modules) > 3
    for module in modules:
        text = module.read_text(encoding="utf-8")
        assert "duckdb" not in text and "ptce_pipeline.store" not in text, module.name
