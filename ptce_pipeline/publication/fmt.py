"""French presentation of numbers and dates, and the statistical-secret rule.

Numbers: espace fine insécable (U+202F) between thousands, virgule décimale, a no-break space
(U+00A0) before « € » and « % ». The same value kinds drive the xlsx number formats.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ptce_pipeline.catalogue import vocabulary

SECRET_MIN = 3  # an aggregate over fewer poles is masked ("secret statistique")
SECRET = "secret"  # what a masked cell shows (HTML, xlsx, CSV)
MISSING = "—"  # no data (HTML only; empty in xlsx/CSV, null in Parquet)

THIN = "\u202f"
NBSP = "\u00a0"

# value kinds: the référentiel's indicator kinds plus publication-only ones
#   count, euros, fte, percent, m2, scale (référentiel) · int, num, share, score, text
XLSX_FORMATS = {
    "int": "#,##0",
    "count": "#,##0",
    "m2": "#,##0",
    "euros": '#,##0" €"',
    "fte": "#,##0.0",
    "percent": '0.0" %"',
    "share": '0.0" %"',
    "scale": "0.0",
    "score": "0",
    "num": "#,##0.0",
    "date": "dd/mm/yyyy",
    "id": "0",
}


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (a list or array is never "missing")."""
    if value is None:
        return True
    kind = type(value)
    if kind is float:  # the common cases first: this runs for every exported cell
        return value != value
    if kind in (str, int, bool, list, tuple):
        return False
    if isinstance(value, str | list | tuple):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def masked(n: Any) -> bool:
    """True when an aggregate over `n` poles must not be published: 1 or 2 poles (over none
    there is nothing to hide, nor anything to show but « — » or 0)."""
    if is_missing(n):
        return False
    return 0 < int(n) < SECRET_MIN


def decimals_for(kind: str, value: float) -> int:
    if kind in ("euros", "int", "m2", "score"):
        return 0
    if kind in ("count",):
        return 0 if float(value).is_integer() else 1
    return 1  # fte, percent, share, scale, num


def rounded(value: Any, decimals: int) -> Decimal:
    """The one rounding rule of every displayed number: half away from zero, on the value as
    written (its shortest decimal representation, `repr`), so 6.25 → 6.3 and 0.125 → 0.13
    whatever its binary neighbour. Excel and LibreOffice display a number format the same way;
    the data files keep the full value."""
    exact = Decimal(repr(float(value)))
    if not exact.is_finite():
        return exact
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def number(value: Any, kind: str = "num", decimals: int | None = None) -> str:
    """French text of a number: 1 234 567,8 (U+202F), « € » and « % » after a no-break space,
    rounded half away from zero (`rounded`)."""
    if is_missing(value):
        return MISSING
    if kind == "id":  # a number that names something (submission, year): no separator
        return str(int(value))
    value = float(value)
    d = decimals_for(kind, value) if decimals is None else decimals
    text = f"{abs(rounded(value, d)):,.{d}f}".replace(",", THIN).replace(".", ",")
    if value < 0 and text.strip("0,\u202f"):
        text = "\u2212" + text  # a true minus sign
    if kind == "euros":
        text += NBSP + "€"
    elif kind in ("percent", "share"):
        text += NBSP + "%"
    return text


def signed(value: Any, kind: str) -> str:
    """An evolution: +4,7 % or −3,2 pts."""
    if is_missing(value):
        return MISSING
    text = number(abs(value), "num", 1)
    shown = rounded(value, 1)  # the sign of what is shown: +0,1 but never +0,0
    sign = "+" if shown > 0 else ("\u2212" if shown < 0 else "")
    unit = NBSP + "pt" if kind == "points" else NBSP + "%"
    return sign + text + unit


# an evolution (see `signed`), by the kind of the evolution: always signed, as on the site
XLSX_SIGNED = {
    "points": '+#,##0.0" pt";-#,##0.0" pt";0.0" pt"',
    "percent": '+#,##0.0" %";-#,##0.0" %";0.0" %"',
}


def xlsx_format(kind: str, value: Any) -> str:
    """The number format of a cell: every number gets one (the cell keeps its full value, the
    format says how many decimals to show; Excel and LibreOffice round half away from zero)."""
    if kind == "count" and not is_missing(value) and not float(value).is_integer():
        return "#,##0.0"
    if kind in XLSX_FORMATS:
        return XLSX_FORMATS[kind]
    if not is_missing(value) and float(value).is_integer():
        return "#,##0"
    return "#,##0.0"


def csv_number(value: Any) -> str:
    """A number for a French CSV: no thousands separator, decimal comma, full precision (the
    shortest text that reads back as the same float)."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value).replace(".", ",")


def short_date(value: dt.date | None) -> str:
    return MISSING if is_missing(value) else f"{value:%d/%m/%Y}"


def date_fr(value: dt.date | dt.datetime | None) -> str:
    if is_missing(value):
        return MISSING
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = paris(value)  # a moment: the day it was in France
    return vocabulary.long_date(value)


def paris(moment: dt.datetime) -> dt.datetime:
    """The moment in Europe/Paris time (UTC when the zone database is missing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo("Europe/Paris"))
    except Exception:  # no tzdata: stay in UTC
        return moment.astimezone(dt.UTC)


def datetime_fr(moment: dt.datetime) -> str:
    local = paris(moment)
    return f"{date_fr(local)} à {local.hour} h {local:%M}"
