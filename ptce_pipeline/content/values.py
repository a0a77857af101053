"""Reading the honest ways people type values in a spreadsheet (stdlib only: runs in workers).

Each parser returns ``(value, problem)`` where problem is ``None`` or ``(code, params)``; the
caller turns problems into issues with the cell address. A numeric cell is never
reinterpreted; text is read with French conventions (decimal comma, space grouping).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

NULL_LIKE = frozenset(
    {
        "",
        "nc",
        "n.c.",
        "n/c",
        "neant",
        "néant",
        "-",
        "--",
        "—",
        "–",
        "n/a",
        "na",
        "n.a.",
        "nd",
        "n.d.",
        "?",
        "/",
        "sans objet",
        "so",
        "s.o.",
        "aucun",
        "vide",
        "none",
        "null",
    }
)
ERROR_VALUES = frozenset(
    {
        "#REF!",
        "#DIV/0!",
        "#N/A",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#VALUE!",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "Err:502",
        "Err:504",
        "Err:508",
        "Err:511",
        "Err:522",
        "#NOM?",
        "#VALEUR!",
        "#NOMBRE!",
    }
)
_SPACES = "\u00a0\u202f\u2009\u2007\u2008\u200a\u205f\u3000 "
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED_DOTS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_GROUPED_DOTS_DEC = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")
_GROUPED_COMMAS = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?$")
_ONE_THOUSAND_DOT = re.compile(r"^[+-]?\d{1,3}\.\d{3}$")
# Unit written after (or, for €, before) a number, by kind: "35 %", "185 000 €", "2,5 ETP".
# A unit of another kind ("35 %" in a euro field) is not a number of this kind.
_UNITS = {
    "percent": ("%", "pourcents", "pourcent", "pct"),
    "euros": ("€", "euros", "euro", "eur", "k€"),
    "fte": ("etp",),
    "m2": ("m²", "m2"),
}
_ANY_UNIT = re.compile(r"(%|pourcents?|pct|k?€|euros?|eur|etp|m²|m2)$")


_SPACE_TABLE = str.maketrans(dict.fromkeys(_SPACES[:-1] + "\t", " "))


def clean_text(raw: Any) -> tuple[str | None, bool]:
    """Normalise a text cell: NFC, invisible and control characters removed, spaces collapsed.
    Returns (text or None, whether invisible characters were removed)."""
    if raw is None:
        return None, False
    text = raw if isinstance(raw, str) else str(raw)
    if text.isascii() and text.isprintable():  # the common case: one pass, nothing to remove
        return " ".join(text.split()) or None, False
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    cleaned = _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text
    removed = cleaned is not text and cleaned != text
    cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n").translate(_SPACE_TABLE)
    if "\n" in cleaned:
        cleaned = "\n".join(" ".join(line.split()) for line in cleaned.split("\n")).strip()
    else:
        cleaned = " ".join(cleaned.split())
    return (cleaned or None), removed


def is_null_like(text: str) -> bool:
    return text.strip().casefold() in NULL_LIKE


def is_error_value(raw: Any) -> bool:
    return isinstance(raw, str) and raw.strip() in ERROR_VALUES


def parse_number(raw: Any, *, kind: str = "count", percent_cell: bool = False):
    """Return (float | None, problem). `percent_cell` is True when the cell is formatted as a
    percentage (0.43 displayed as 43 %): for a percent indicator the value is then ×100, so
    the value read is always the one the pole sees."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, ("not-a-number", {})
    if isinstance(raw, int | float):
        value = float(raw)
        if math.isnan(value) or math.isinf(value):
            return None, ("not-a-number", {})
        if percent_cell and kind == "percent":  # what the pole sees: 0.43 shown as 43 %
            value = round(value * 100, 10)
        return value, None
    if isinstance(raw, dt.datetime | dt.date | dt.time | dt.timedelta):
        return None, ("not-a-number", {})
    text, _ = clean_text(raw)
    if text is None or is_null_like(text):
        return None, None
    s = text.replace(" ", "").replace("\u2212", "-").replace("'", "").replace("’", "").lower()
    if s.startswith("€"):
        s = s[1:]
    unit = _ANY_UNIT.search(s)
    scale = 1.0
    if unit is not None:
        if unit.group(1) not in _UNITS.get(kind, ()):
            return None, ("not-a-number", {})
        scale = 1000.0 if unit.group(1) == "k€" else 1.0
        s = s[: unit.start()]
    if not s:
        return None, ("not-a-number", {})
    problem = None
    if _GROUPED_DOTS_DEC.match(s):  # 1.234.567,89
        s = s.replace(".", "").replace(",", ".")
    elif _GROUPED_DOTS.match(s):
        if s.count(".") > 1:  # 1.234.567
            s = s.replace(".", "")
        elif _ONE_THOUSAND_DOT.match(s) and kind in ("count", "euros"):
            alt = s.replace(".", ",")
            s = s.replace(".", "")
            problem = ("ambiguous-number", {"read": display_number(float(s)), "alt": alt})
        # otherwise a single dot in a decimal field is a decimal point
    elif _GROUPED_COMMAS.match(s):  # 1,234,567(.89): English grouping
        s = s.replace(",", "")
    elif "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif s.count(",") == 1:
        s = s.replace(",", ".")
    if not _NUM_RE.match(s):
        return None, ("not-a-number", {})
    value = float(s) * scale
    if math.isinf(value) or math.isnan(value):
        return None, ("not-a-number", {})
    return value, problem


def parse_year(raw: Any, *, lo: int = 1900, hi: int = 2100):
    if raw is None:
        return None, None
    if isinstance(raw, dt.datetime | dt.date):
        return raw.year, None
    if isinstance(raw, bool):
        return None, ("invalid-year", {})
    if isinstance(raw, int | float):
        if isinstance(raw, float) and (math.isnan(raw) or not raw.is_integer()):
            return None, ("invalid-year", {})
        year = int(raw)
        return (year, None) if lo <= year <= hi else (None, ("invalid-year", {}))
    text, _ = clean_text(raw)
    if text is None or is_null_like(text):
        return None, None
    date, _problem = parse_date(text)
    if date is not None:
        return date.year, None
    m = re.fullmatch(r"(\d{4})(?:[.,]0+)?", text.replace(" ", ""))
    if m and lo <= int(m.group(1)) <= hi:
        return int(m.group(1)), None
    return None, ("invalid-year", {})


def serial_to_date(serial: float, *, epoch1904: bool = False) -> dt.date | None:
    if math.isnan(serial) or serial < 1 or serial > 2958465:
        return None
    base = dt.date(1904, 1, 1) if epoch1904 else dt.date(1899, 12, 30)
    return base + dt.timedelta(days=int(serial))


def parse_date(raw: Any, *, epoch1904: bool = False):
    if raw is None:
        return None, None
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    if isinstance(raw, bool):
        return None, ("invalid-date", {})
    if isinstance(raw, int | float):
        date = serial_to_date(float(raw), epoch1904=epoch1904)
        return (date, None) if date else (None, ("invalid-date", {}))
    text, _ = clean_text(raw)
    if text is None or is_null_like(text):
        return None, None
    text = text.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2}[ T]", text) else text
    try:
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})", text)
        if m:  # day first, as in France: 01/02/2024 is the first of February
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if year < 100:
                year += 2000
            return dt.date(year, month, day), None
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))), None
        m = re.fullmatch(r"(\d{1,2})(?:er)? ([^\W\d_]+)\.? (\d{4})", fold_simple(text))
        if m and m.group(2) in _MONTHS:
            return dt.date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1))), None
    except ValueError:
        pass
    return None, ("invalid-date", {})


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("janvier", "janv"),
            ("fevrier", "fevr", "fev"),
            ("mars",),
            ("avril", "avr"),
            ("mai",),
            ("juin",),
            ("juillet", "juil"),
            ("aout",),
            ("septembre", "sept"),
            ("octobre", "oct"),
            ("novembre", "nov"),
            ("decembre", "dec"),
        ),
        start=1,
    )
    for name in names
}


_YES = frozenset({"oui", "o", "x", "1", "yes", "y", "vrai", "true", "ok", "✓", "✔"})
_NO = frozenset({"non", "n", "0", "no", "faux", "false"})
_PARTIAL = frozenset(
    {"en partie", "partiellement", "partiel", "partielle", "en_partie", "p", "1/2"}
)


def parse_answer(raw: Any):
    """Criteria answers: Oui / Non / En partie in any honest spelling → code."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return ("oui" if raw else "non"), None
    if isinstance(raw, int | float) and raw in (0, 1):
        return ("oui" if raw == 1 else "non"), None
    text, _ = clean_text(raw)
    if text is None:
        return None, None
    key = fold_simple(text).rstrip(" .!")
    if key in _YES:
        return "oui", None
    if key in _NO:
        return "non", None
    if key in _PARTIAL:
        return "en_partie", None
    if is_null_like(text):
        return None, None
    return None, ("not-in-list", {})


def fold_simple(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().replace("’", "'").split())


def normalize_siret(raw: Any) -> str | None:
    """SIRET typed as a number, with spaces, dots or dashes → 14-character string (unchecked)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return None
        if raw.is_integer() and 0 <= raw < 1e15:
            return str(int(raw)).zfill(14)
        return repr(raw)
    if isinstance(raw, int):
        return str(raw).zfill(14) if raw >= 0 else str(raw)
    text, _ = clean_text(raw)
    if text is None or is_null_like(text):
        return None
    compact = re.sub(r"[\s.\-_/]", "", text)
    return compact.upper()


def normalize_commune(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer() and 0 < raw < 100000:
        return str(int(raw)).zfill(5)
    if isinstance(raw, int) and 0 < raw < 100000:
        return str(raw).zfill(5)
    text, _ = clean_text(raw)
    if text is None or is_null_like(text):
        return None
    text = text.replace(" ", "").upper()
    if text.isdigit() and len(text) == 4:
        text = "0" + text
    return text


def normalize_departement(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        return str(raw).zfill(2)
    text, _ = clean_text(raw)
    if text is None or is_null_like(text):
        return None
    text = text.replace(" ", "").upper()
    m = re.match(r"^(\d{1,3}|2A|2B)\b", text)  # "26 - Drôme" → 26
    if m:
        code = m.group(1)
        return code.zfill(2) if code.isdigit() and len(code) < 3 else code
    return text


_POLE_RE = re.compile(r"^PTCE[\s\-_]*(\d{3,})$", re.IGNORECASE)


def normalize_pole_id(raw: Any) -> tuple[str | None, bool]:
    """→ (normalised id or the cleaned text, valid?)"""
    if raw is None:
        return None, False
    text, _ = clean_text(raw)
    if text is None:
        return None, False
    m = _POLE_RE.match(text.replace(" ", " "))
    if m:
        return f"PTCE-{m.group(1)}", True
    return text, False


_EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")


def is_email(text: str) -> bool:
    return bool(_EMAIL_RE.match(text))


def display_number(value: float | None) -> str:
    """French display of a number for messages: 1 234,5"""
    if value is None:
        return ""
    if float(value).is_integer():
        text = f"{int(value):,}".replace(",", "\u202f")
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")
    return text
