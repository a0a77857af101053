"""Each message's advice matches the rule of the cell it is about: a required cell is never told
it may stay empty, an integer field is never shown a decimal, an example is always inside the
field's bounds, a year is asked for between the bounds the field really accepts.

The systematic test writes bad values into every indicator and every number, year and date
field of real workbooks, reads and validates them as the pipeline does, and checks every value
the messages suggest against the rule of that cell (`catalogue.advice.rule_of`)."""

from __future__ import annotations

import copy
import re

import pytest
from helpers.checking import TODAY, read_and_validate
from helpers.workbooks import filled, workbook

from ptce_pipeline.catalogue import advice, load_referentiel_bytes, referentiel_bytes
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one

EMPTY_ADVICE = re.compile(r"laissez (vide|la cellule vide)")


def tweaked():
    """The packaged référentiel with bounds that exclude the usual examples (12, 12,5, 0) and a
    required fill date."""
    text = referentiel_bytes().decode("utf-8")
    edits = [
        ('code = "IND01"', "max = 5000", "min = 100\nmax = 200"),
        ('code = "IND14"', "max = 1000", "min = 20\nmax = 40"),
        ('code = "IND15"', "max = 1000000", "min = 0.5\nmax = 0.9"),
        ('key = "date_remplissage"', "required = false", "required = true"),
    ]
    for anchor, old, new in edits:
        at = text.index(anchor)
        found = text.index(old, at)
        assert text.count("[[", at, found) == 0, anchor  # within the same table
        text = text[:found] + new + text[found + len(old) :]
    return load_referentiel_bytes(text.encode("utf-8"), "referentiel-test.toml")


def messages_for(ref, change) -> tuple[dict[tuple[str, str], list], dict[tuple[str, str], object]]:
    """Issues of a workbook changed by `change(data)`, by (sheet, cell); and the rule of every
    value cell, by (sheet, cell), read from where the reader found each field."""
    data = copy.deepcopy(filled(ref))
    change(data)
    source = workbook(ref, data, pole_id="PTCE-001", period=2024)
    content = read_one(source, ref, Limits()).content
    rules = {}
    for key, cell in content.identity.items():
        rules[(L.SHEET_IDENTITY, cell.cell)] = advice.rule_of(ref, ref.identity_by_key[key])
    for member in content.members[:1]:
        for key, cell in member.items():
            rules[(L.SHEET_MEMBERS, cell.cell)] = advice.rule_of(ref, ref.member_by_key[key])
    for code, cell in content.indicators.items():
        rules[(L.SHEET_INDICATORS, cell.cell)] = advice.rule_of(ref, ref.indicator_by_code[code])
    found: dict[tuple[str, str], list] = {}
    for issue in read_and_validate(ref, source).issues:
        found.setdefault((issue.sheet, issue.cell), []).append(issue)
    return found, rules


def french_number(text: str) -> float:
    return float(text.replace("\u202f", "").replace(" ", "").replace(",", "."))


NUMBER = r"-?\d[\d\u202f ]*(?:,\d+)?"
SUGGESTED = (
    re.compile(rf"par exemple ({NUMBER})(?: ou ({NUMBER}))?"),
    re.compile(rf"avec une virgule \(({NUMBER})\)"),
    re.compile(rf"({NUMBER}) si la réponse est « aucun »"),
)


def suggested_values(message: str) -> list[float]:
    """Every value the message advises typing."""
    return [
        french_number(group)
        for pattern in SUGGESTED
        for m in pattern.finditer(message)
        for group in m.groups()
        if group
    ]


def check_advice(issue, rule) -> list[str]:
    """What in `issue`'s message contradicts `rule` (empty when the advice is right)."""
    wrong = []
    if rule.required and EMPTY_ADVICE.search(issue.message):
        wrong.append("advises leaving a required cell empty")
    for value in suggested_values(issue.message):
        if not rule.accepts(value):
            wrong.append(f"suggests {value}, which the cell refuses")
    years = re.search(r"entre (\d{4}) et (\d{4}|l'année en cours)", issue.message)
    if years:
        low, high = int(years.group(1)), years.group(2)
        high = TODAY.year if not high.isdigit() else int(high)
        if low < (rule.min or 0) or high > (rule.max or TODAY.year) or low > high:
            wrong.append(f"states years {low}–{high}, not the cell's")
    return wrong


def bad_values(ref):
    """(name, change) pairs: each puts one kind of bad value in every cell it applies to."""
    numeric = [i for i in ref.indicators]
    ambiguous = [i.code for i in numeric if i.kind in ("count", "euros")]
    identity_years = [f.key for f in ref.identity if f.kind in ("year", "period")]
    member_numbers = [f.key for f in ref.members if f.kind in advice.NUMERIC]
    member_years = [f.key for f in ref.members if f.kind == "year"]

    def every(values, members=None, identity=None):
        def change(data):
            data.indicators.update(values)
            for key, value in (identity or {}).items():
                data.identity[key] = value
            for key, value in (members or {}).items():
                data.members[0][key] = value

        return change

    def beyond(rule, up: bool):
        bound = rule.max if up else rule.min
        return None if bound is None else bound + (1 if up else -1)

    rules = {i.code: advice.indicator_rule(i) for i in numeric}
    return [
        (
            "texte",
            every(
                {i.code: "beaucoup" for i in numeric},
                members=dict.fromkeys(member_numbers + member_years, "beaucoup"),
                identity={**dict.fromkeys(identity_years, "deux mille"), "date_remplissage": "?!"},
            ),
        ),
        ("vide", every(dict.fromkeys(rules), identity=dict.fromkeys(ref.identity_by_key))),
        ("au-dessus", every({c: beyond(r, True) for c, r in rules.items() if r.max is not None})),
        ("en dessous", every({c: beyond(r, False) for c, r in rules.items() if r.min is not None})),
        ("décimal", every({c: 2.5 for c, r in rules.items() if r.integer})),
        ("point", every(dict.fromkeys(ambiguous, "1.250"))),
        (
            "années",
            every(
                {},
                members=dict.fromkeys(member_years, 1800),
                identity=dict.fromkeys(identity_years, 2099),
            ),
        ),
        ("date", every({}, identity={"date_remplissage": "01/01/2099"})),
    ]


@pytest.mark.parametrize("which", ["packaged", "tweaked"])
def test_no_message_advises_what_its_cell_refuses(ref, which):
    ref = ref if which == "packaged" else tweaked()
    checked: dict[str, int] = {}
    wrong = []
    for name, change in bad_values(ref):
        found, rules = messages_for(ref, change)
        for place, issues in found.items():
            rule = rules.get(place)
            if rule is None:
                continue
            for issue in issues:
                checked[issue.code] = checked.get(issue.code, 0) + 1
                wrong += [f"{name} {place} {issue.code}: {w}" for w in check_advice(issue, rule)]
    assert wrong == []
    # every kind of advice that depends on the cell's rule was exercised
    assert {
        "not-a-number",
        "required-value",
        "out-of-range",
        "not-an-integer",
        "ambiguous-number",
        "invalid-year",
        "invalid-date",
        "implausible-fill-date",
    } <= set(checked), checked


def message_at(ref, code: str, value) -> str:
    def change(data):
        data.indicators[code] = value

    found, rules = messages_for(ref, change)
    cell = next(
        p for p, r in rules.items() if r == advice.indicator_rule(ref.indicator_by_code[code])
    )
    (issue,) = found[cell]
    return issue.message


def test_text_in_a_required_number_cell_does_not_advise_leaving_it_empty(ref):
    assert ref.indicator_by_code["IND01"].required
    message = message_at(ref, "IND01", "beaucoup")
    assert "laissez vide" not in message
    assert message.endswith(
        "Saisissez un nombre entier sans texte (par exemple 12, ou 0 si la réponse est « aucun ») "
        ": la valeur est obligatoire, la cellule ne peut pas rester vide."
    )


def test_text_in_an_optional_number_cell_may_be_left_empty(ref):
    assert not ref.indicator_by_code["IND15"].required
    message = message_at(ref, "IND15", "beaucoup")
    assert message.endswith(
        "Saisissez un nombre sans texte (par exemple 12 ou 12,5), ou laissez vide si la donnée "
        "n'est pas connue."
    )


def test_a_thousands_dot_in_a_count_is_not_told_to_become_a_decimal(ref):
    count = message_at(ref, "IND05", "1.250")
    assert "virgule" not in count
    assert count.endswith("écrivez les milliers sans point pour lever le doute.")
    euros = message_at(ref, "IND17", "1.250")
    assert euros.endswith("Si c'est un nombre décimal, écrivez-le avec une virgule (1,250).")


def test_examples_stay_inside_the_bounds(ref):
    scale = advice.indicator_rule(ref.indicator_by_code["IND09"])
    assert (scale.min, scale.max, scale.integer) == (0, 3, True)
    assert advice.examples(scale) == [1.0]
    narrow = advice.CellRule(True, "fte", min=20, max=40)
    assert advice.examples(narrow) == [30.0, 30.5]
    tiny = advice.CellRule(False, "m2", min=0.5, max=0.9)
    assert advice.examples(tiny) == [0.5]
    assert advice.required_hint(advice.CellRule(True, "count", True, 100, 200)) == (
        "par exemple 150"
    )


def test_a_count_out_of_bounds_is_not_asked_to_check_a_unit(ref):
    count = message_at(ref, "IND01", 6000)
    assert count.endswith("hors des bornes acceptées (de 0 à 5 000). Corrigez la valeur.")
    share = message_at(ref, "IND02", 140)
    assert share.endswith("Corrigez la valeur ou vérifiez l'unité (%).")
