"""pandera schemas generated from the référentiel catalogue, one per sheet: identity, members,
indicators (with the cross-indicator rules) and criteria. The check names are our issue codes, so
mapping a failure back to an issue is a lookup. Built once per référentiel and year.

Cross-indicator checks follow the severity policy written in `rules`: insertion jobs (IND24)
and net jobs created (IND23) above direct jobs (IND22) cannot both be true (a part larger
than its whole) → erreur; public-funding share (IND08) plus self-financing rate (IND26) above
100 can come from a receipt counted twice → avertissement.
"""

from __future__ import annotations

from ptce_pipeline.catalogue import POLE_ID_RE, Field, Referentiel
from ptce_pipeline.catalogue.advice import YEAR_MIN
from ptce_pipeline.validation.rules import COMMUNE_RE, PERIOD_MIN

EMAIL_RE = r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$"


def _siret_valid(s):
    """Vectorised over the distinct values: python-stdnum's SIRET check (Luhn, with the
    La Poste exception: SIREN 356000000 whose digits sum to a multiple of 5)."""
    from stdnum.fr import siret

    bad = [v for v in s.dropna().unique() if not siret.is_valid(str(v))]
    return ~s.isin(bad) if bad else s.notna() | s.isna()


def year_bounds(fld: Field, today_year: int) -> tuple[int, int]:
    """The years a year or period field accepts (the catalogue's, or 1900 and this year)."""
    if fld.kind == "period":
        return int(fld.min or PERIOD_MIN), int(fld.max or today_year)
    return int(fld.min or YEAR_MIN), int(fld.max or today_year)


def _field_checks(fld: Field, ref: Referentiel, today_year: int) -> list:
    import pandera.pandas as pa

    checks = []
    if fld.required:
        checks.append(pa.Check(lambda s: s.notna(), name="required-value", ignore_na=False))
    kind = fld.kind
    if kind == "pole_id":
        checks.append(
            pa.Check(lambda s: s.astype(str).str.match(POLE_ID_RE.pattern), name="invalid-pole-id")
        )
    elif kind == "siret":
        checks.append(pa.Check(_siret_valid, name="invalid-siret"))
    elif kind == "code" and fld.liste:
        codes = [v.code for v in ref.lists[fld.liste].values]
        checks.append(pa.Check(lambda s, codes=codes: s.isin(codes), name="not-in-list"))
    elif kind == "commune":
        checks.append(
            pa.Check(lambda s: s.astype(str).str.match(COMMUNE_RE.pattern), name="invalid-commune")
        )
    elif kind == "departement":
        deps = list(ref.geography.departements)
        checks.append(pa.Check(lambda s, deps=deps: s.isin(deps), name="invalid-departement"))
    elif kind == "region":
        regions = list(ref.geography.regions)
        checks.append(pa.Check(lambda s, regions=regions: s.isin(regions), name="invalid-region"))
    elif kind == "year":
        lo, hi = year_bounds(fld, today_year)
        checks.append(pa.Check(lambda s, lo=lo, hi=hi: s.between(lo, hi), name="invalid-year"))
    elif kind == "period":
        # too early only: a period after the current year is `period-in-future` (rules)
        lo, _hi = year_bounds(fld, today_year)
        checks.append(pa.Check(lambda s, lo=lo: s >= lo, name="invalid-year"))
    elif kind == "email":
        checks.append(pa.Check(lambda s: s.astype(str).str.match(EMAIL_RE), name="invalid-email"))
    elif kind in ("count", "euros", "fte", "percent", "m2", "scale"):
        k = ref.kinds.get(kind)
        lo = fld.min if fld.min is not None else (k.min if k else None)
        hi = fld.max if fld.max is not None else (k.max if k else None)
        checks.extend(_numeric_checks(lo, hi, integer=bool(k and k.integer)))
    return checks


def _numeric_checks(lo, hi, *, integer: bool) -> list:
    import pandera.pandas as pa

    checks = []
    if integer:
        checks.append(pa.Check(lambda s: (s % 1) == 0, name="not-an-integer"))
    if lo is not None or hi is not None:
        lo_ = float("-inf") if lo is None else lo
        hi_ = float("inf") if hi is None else hi
        checks.append(
            pa.Check(lambda s, lo_=lo_, hi_=hi_: s.between(lo_, hi_), name="out-of-range")
        )
    return checks


_SCHEMAS: dict[tuple[str, int], tuple] = {}


def schemas_for(ref: Referentiel, today_year: int):
    """(identity, members, indicators, criteria) schemas, built once per référentiel and year."""
    key = (ref.sha256, today_year)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _build_schemas(ref, today_year)
    return _SCHEMAS[key]


def _build_schemas(ref: Referentiel, today_year: int):
    import pandera.pandas as pa

    def column(checks):
        return pa.Column(None, nullable=True, required=False, checks=checks)

    identity = pa.DataFrameSchema(
        {f.key: column(_field_checks(f, ref, today_year)) for f in ref.identity},
        name="identite",
    )
    member_checks = []
    if "siret" in ref.member_by_key:
        member_checks.append(
            pa.Check(
                lambda df: ~(df["siret"].notna() & df.duplicated(["_item", "siret"], keep="first")),
                name="duplicate-siret",
            )
        )
    members = pa.DataFrameSchema(
        {f.key: column(_field_checks(f, ref, today_year)) for f in ref.members},
        checks=member_checks,
        name="membres",
    )
    ind_cols = {}
    for ind in ref.indicators:
        checks = []
        if ind.required:
            checks.append(pa.Check(lambda s: s.notna(), name="required-value", ignore_na=False))
        checks.extend(_numeric_checks(ind.min, ind.max, integer=ind.integer))
        ind_cols[ind.code] = column(checks)
    indicators = pa.DataFrameSchema(ind_cols, checks=_cross_checks(ref), name="indicateurs")
    answers = [v.code for v in ref.lists["reponses_criteres"].values]
    criteria = pa.DataFrameSchema(
        {
            c.code: column(
                [
                    pa.Check(lambda s: s.notna(), name="missing-answer", ignore_na=False),
                    pa.Check(lambda s, answers=answers: s.isin(answers), name="not-in-list"),
                ]
            )
            for c in ref.criteria
        },
        name="criteres",
    )
    return identity, members, indicators, criteria


# Cross-indicator rules: (code, cell reported, other cell, failing mask of the frame). The
# severity is the catalogue's (see the policy in the module docstring).
CROSS_RULES = (
    ("jobs-created-above-direct", "IND23", "IND22", lambda df: df["IND23"] > df["IND22"]),
    ("insertion-above-direct", "IND24", "IND22", lambda df: df["IND24"] > df["IND22"]),
    ("funding-shares-above-100", "IND08", "IND26", lambda df: (df["IND08"] + df["IND26"]) > 100),
)
CROSS = {rule[0]: rule for rule in CROSS_RULES}


def _cross_checks(ref: Referentiel) -> list:
    import pandera.pandas as pa

    codes = set(ref.indicator_by_code)
    checks = []
    for name, a, b, test in CROSS_RULES:
        if a in codes and b in codes:
            checks.append(
                pa.Check(lambda df, test=test: ~test(df).fillna(False).astype(bool), name=name)
            )
    return checks
