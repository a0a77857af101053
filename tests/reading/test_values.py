"""The honest ways people type values, one case each, at the parsing level (values.py).

The same variants typed into real workbooks are in test_reader_variants.py."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from ptce_pipeline.content import values as V

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("typed", "kind", "expected"),
    [
        ("12,5", "fte", 12.5),
        ("1 250 000", "count", 1250000.0),
        (f"1{NBSP}250{NBSP}000", "count", 1250000.0),
        (f"1{NNBSP}250{NNBSP}000", "euros", 1250000.0),
        ("1 234,56", "euros", 1234.56),
        ("35 %", "percent", 35.0),
        ("35%", "percent", 35.0),
        ("0,5 %", "percent", 0.5),
        ("185 000 €", "euros", 185000.0),
        ("€185000", "euros", 185000.0),
        ("185 k€", "euros", 185000.0),
        ("2,5 ETP", "fte", 2.5),
        ("1 200 m²", "m2", 1200.0),
        ("1.234.567", "count", 1234567.0),
        ("1.234.567,89", "euros", 1234567.89),
        ("1,234,567", "count", 1234567.0),
        ("1.5", "fte", 1.5),  # a single dot in a decimal field is a decimal point
        ("1.234", "fte", 1.234),
        ("  42  ", "count", 42.0),
        ("\u221212", "count", -12.0),  # the minus sign (U+2212) of copied text
        ("1'250", "count", 1250.0),
        ("1e3", "count", 1000.0),
        ("1e308", "euros", 1e308),  # a number, bounds are checked later
        ("123456789012345678901234567890", "count", 1.2345678901234568e29),
    ],
)
def test_number_typed_as_text(typed, kind, expected):
    assert V.parse_number(typed, kind=kind) == (pytest.approx(expected), None)


def test_single_dot_thousand_in_a_count_is_read_as_thousand_with_a_warning():
    value, problem = V.parse_number("1.234", kind="count")
    assert value == 1234.0
    assert problem == ("ambiguous-number", {"read": "1\u202f234", "alt": "1,234"})


def test_single_dot_thousand_in_euros_is_read_as_thousand_with_a_warning():
    assert V.parse_number("1.250", kind="euros")[0] == 1250.0
    assert V.parse_number("1.250", kind="euros")[1][0] == "ambiguous-number"


@pytest.mark.parametrize("typed", ["NC", "nc", "néant", "Néant", "-", "N/A", "n.d.", "", "   "])
def test_null_like_text_is_missing_without_problem(typed):
    assert V.parse_number(typed, kind="count") == (None, None)


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("environ 1200", "count"),
        ("inf", "count"),
        ("NaN", "count"),
        ("12 %", "euros"),  # a unit of another kind is not silently dropped
        ("35 €", "percent"),
        ("2 ETP", "count"),
        ("1,2,3", "count"),
        ("%", "percent"),
    ],
)
def test_not_a_number(typed, kind):
    assert V.parse_number(typed, kind=kind) == (None, ("not-a-number", {}))


def test_a_numeric_cell_is_never_reinterpreted():
    assert V.parse_number(1.234, kind="count") == (1.234, None)
    assert V.parse_number(1234, kind="count") == (1234.0, None)
    assert V.parse_number(0.43, kind="percent") == (0.43, None)


def test_percent_formatted_cell_reads_what_the_pole_sees():
    assert V.parse_number(0.43, kind="percent", percent_cell=True) == (43.0, None)
    assert V.parse_number(1.2, kind="percent", percent_cell=True) == (120.0, None)
    assert V.parse_number(5, kind="percent", percent_cell=True) == (500.0, None)


@pytest.mark.parametrize("raw", [True, False, math.inf, math.nan, dt.date(2024, 1, 1)])
def test_non_numbers_in_a_number_field(raw):
    assert V.parse_number(raw, kind="count") == (None, ("not-a-number", {}))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Oui", "oui"),
        ("oui", "oui"),
        ("OUI", "oui"),
        ("X", "oui"),
        ("x", "oui"),
        ("1", "oui"),
        (1, "oui"),
        (1.0, "oui"),
        (True, "oui"),
        (" Oui. ", "oui"),
        ("Non", "non"),
        (0, "non"),
        (False, "non"),
        ("En partie", "en_partie"),
        ("en partie", "en_partie"),
        ("Partiellement", "en_partie"),
    ],
)
def test_answers(typed, expected):
    assert V.parse_answer(typed) == (expected, None)


def test_answer_outside_the_list():
    assert V.parse_answer("Peut-être") == (None, ("not-in-list", {}))
    assert V.parse_answer("NC") == (None, None)


@pytest.mark.parametrize(
    ("raw", "epoch1904", "expected"),
    [
        (45702, False, dt.date(2025, 2, 14)),  # serial, 1900 date system
        (45702.75, False, dt.date(2025, 2, 14)),  # a time of day is dropped
        (44240, True, dt.date(2025, 2, 14)),  # serial, 1904 date system (old Mac Excel)
        ("14/02/2025", False, dt.date(2025, 2, 14)),  # JJ/MM/AAAA, day first
        ("01/02/2024", False, dt.date(2024, 2, 1)),
        ("14.02.2025", False, dt.date(2025, 2, 14)),
        ("14/02/25", False, dt.date(2025, 2, 14)),
        ("2025-02-14", False, dt.date(2025, 2, 14)),
        ("2025-02-14 10:30:00", False, dt.date(2025, 2, 14)),
        ("14 février 2025", False, dt.date(2025, 2, 14)),
        ("1er mars 2025", False, dt.date(2025, 3, 1)),
        (dt.datetime(2025, 2, 14, 9), False, dt.date(2025, 2, 14)),
    ],
)
def test_dates(raw, epoch1904, expected):
    assert V.parse_date(raw, epoch1904=epoch1904) == (expected, None)


@pytest.mark.parametrize("raw", ["31/02/2025", "hier", "14/13/2025", -3, True])
def test_invalid_dates(raw):
    assert V.parse_date(raw) == (None, ("invalid-date", {}))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(2024, 2024), (2024.0, 2024), ("2024", 2024), (" 2024 ", 2024), (dt.date(2019, 5, 1), 2019)],
)
def test_years(raw, expected):
    assert V.parse_year(raw) == (expected, None)


@pytest.mark.parametrize("raw", [24, "deux mille", 2024.5, 3000])
def test_invalid_years(raw):
    assert V.parse_year(raw) == (None, ("invalid-year", {}))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (47600137504413, "47600137504413"),  # typed as a number
        (47600137504413.0, "47600137504413"),
        (1234567890123, "01234567890123"),  # leading zero lost by the number format
        ("476 001 375 04413", "47600137504413"),
        (f"476{NBSP}001{NBSP}375{NBSP}04413", "47600137504413"),
        ("476.001.375.04413", "47600137504413"),
        ("  47600137504413 ", "47600137504413"),
        ("NC", None),
    ],
)
def test_siret(raw, expected):
    assert V.normalize_siret(raw) == expected


def test_clean_text_removes_invisible_characters_and_stray_spaces():
    assert V.clean_text("  Pôle\u200b  Sud \u202e") == ("Pôle Sud", True)
    assert V.clean_text("Pôle\u00a0Sud") == ("Pôle Sud", False)
    assert V.clean_text("A\r\nB\tC") == ("A\nB C", False)
    assert V.clean_text("e\u0301") == ("é", False)  # NFC


@pytest.mark.parametrize("raw", ["#REF!", "#DIV/0!", "#N/A", " #VALEUR! ", "Err:502"])
def test_error_values(raw):
    assert V.is_error_value(raw)


def test_commune_and_departement_codes():
    assert V.normalize_commune(1053) == "01053"
    assert V.normalize_commune("1053") == "01053"
    assert V.normalize_commune("2a004") == "2A004"
    assert V.normalize_departement(7) == "07"
    assert V.normalize_departement("26 - Drôme") == "26"
    assert V.normalize_departement("2b") == "2B"
