"""The figures behind the publications: one SQL query per kind of fact, on the analysts'
snapshot (which holds no personal data), for one period.

Only the columns a publication needs are read: never contacts, never SIRET of members, never
file paths. The late flag of a missing pole is computed against the publication's `now` (the
`completeness` view uses the clock of the query), so that a publication is reproducible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ptce_pipeline.catalogue.referentiel import Referentiel
from ptce_pipeline.store.versions import period_version

from . import scope
from .fmt import SECRET_MIN

# Identity fields a publication may show (never personal fields, whatever the catalogue says).
PUBLIC_IDENTITY = (
    "nom",
    "structure_nom",
    "structure_forme",
    "commune",
    "departement",
    "region",
    "type_territoire",
    "echelle",
    "origine",
    "secteur",
    "annee_creation",
)
# The typology of the recensement: identity fields, in this order, when the catalogue has them.
TYPOLOGY = ("type_territoire", "echelle", "origine", "secteur")


@dataclass
class PeriodData:
    period: int
    version: int
    now: dt.datetime
    poles: pd.DataFrame  # one row per pole with an accepted submission (identity, members)
    expected: pd.DataFrame  # one row per expected pole: status, late, warnings, errors
    stats: pd.DataFrame  # per (period, indicator): n, total, mean, q1, median, q3, vals
    ranks: pd.DataFrame  # per (pole, indicator): value, n, rank (0–100, NULL when n < 3)
    members: pd.DataFrame  # per member of a pole in the recensement
    criteria: pd.DataFrame  # per (pole, criterion): answer, justification
    issues: pd.DataFrame  # per issue code among the submissions that stand for the period
    campaigns: pd.DataFrame  # every campaign: deadline, closed, closed_at, keep_unreviewed
    submissions: pd.DataFrame  # the accepted submissions the figures rest on
    review: pd.DataFrame  # every declaration in force: pole, submission, review state and date
    kept: tuple[str, ...] = scope.IN_FORCE  # the review states the figures rest on
    kept_prev: tuple[str, ...] = scope.IN_FORCE  # the same for the previous period's

    @property
    def closed_campaigns(self) -> list[int]:
        return [int(p) for p in self.campaigns.loc[self.campaigns["closed"], "period"]]

    @property
    def kept_label(self) -> str:
        """« acceptée », « acceptée et validée »…: the declarations the figures rest on."""
        return scope.KEPT_LABEL.get(self.kept, "acceptée")

    def campaign(self, period: int | None = None) -> dict | None:
        rows = self.campaigns[self.campaigns["period"] == (period or self.period)]
        return rows.iloc[0].to_dict() if len(rows) else None


def _df(con, sql: str, params: dict) -> pd.DataFrame:
    return con.execute(sql, params).df()


# The declarations in force that the figures rest on: those of `period` whose review state is
# in `$kept` (and of `period - 1` in `$kept_prev`, for the evolutions), see `scope`.
KEPT = """kept AS (
    SELECT submission_id, pole_id, period FROM current_submissions
    WHERE (period = $period AND list_contains($kept, coalesce(review_state, 'a_revoir')))
       OR (period = $period - 1 AND list_contains($kept_prev, coalesce(review_state, 'a_revoir')))
)"""

POLES_SQL = f"""
WITH {KEPT},
s AS (
    SELECT submission_id, pole_id FROM kept WHERE period = $period
),
m AS (
    SELECT submission_id, count(*) AS n_members, sum(etp) AS etp_members
    FROM members JOIN s USING (submission_id) GROUP BY submission_id
)
SELECT s.pole_id, s.submission_id, r.nom AS registry_name,
       coalesce(m.n_members, 0) AS n_members, m.etp_members
FROM s
LEFT JOIN poles r USING (pole_id)
LEFT JOIN m USING (submission_id)
ORDER BY s.pole_id
"""

IDENTITY_SQL = f"""
WITH {KEPT}
SELECT i.submission_id, i.field, i.value
FROM identity_values i
JOIN kept s USING (submission_id)
WHERE s.period = $period AND list_contains($fields, i.field)
"""

# The `completeness` view, with its clock replaced by the publication's `now` where the late
# flag depends on it (no version in force: late once the deadline has passed).
EXPECTED_SQL = """
SELECT c.pole_id, c.pole_name, c.status, c.submission_id,
       coalesce(c.n_warnings, 0) AS n_warnings, coalesce(c.n_errors, 0) AS n_errors,
       s.received_at, c.review_state,
       CASE WHEN c.status IN ('acceptee', 'acceptee_avec_avertissements') THEN c.late
            ELSE CAST($now AS TIMESTAMPTZ) >= timezone('Europe/Paris', (c.deadline + 1)::TIMESTAMP)
                 OR coalesce(s.received_at >= timezone('Europe/Paris', (c.deadline + 1)::TIMESTAMP), false)
       END AS late
FROM completeness c
LEFT JOIN submissions s ON s.submission_id = c.submission_id
WHERE c.period = $period
ORDER BY c.pole_id
"""

STATS_SQL = f"""
WITH {KEPT}
SELECT period, indicator_code,
       count(value) AS n, sum(value) AS total, avg(value) AS mean,
       quantile_cont(value, 0.25) AS q1, quantile_cont(value, 0.5) AS median,
       quantile_cont(value, 0.75) AS q3,
       list(value ORDER BY value) AS vals
FROM current_indicator_values JOIN kept USING (submission_id, pole_id, period)
WHERE value IS NOT NULL
GROUP BY period, indicator_code
"""

# Percentile rank with ties sharing their mean rank: 0 = lowest value, 100 = highest.
RANKS_SQL = f"""
WITH {KEPT},
v AS (
    SELECT pole_id, indicator_code, value
    FROM current_indicator_values JOIN kept USING (submission_id, pole_id, period)
    WHERE period = $period
),
r AS (
    SELECT pole_id, indicator_code, value,
           count(value) OVER (PARTITION BY indicator_code) AS n,
           rank() OVER (PARTITION BY indicator_code ORDER BY value) AS rk,
           count(*) OVER (PARTITION BY indicator_code, value) AS ties
    FROM v WHERE value IS NOT NULL
)
SELECT v.pole_id, v.indicator_code, v.value, coalesce(r.n, 0) AS n,
       CASE WHEN r.n >= $secret_min
            THEN 100.0 * (r.rk - 1 + (r.ties - 1) / 2.0) / (r.n - 1) END AS rank
FROM v LEFT JOIN r USING (pole_id, indicator_code)
ORDER BY v.pole_id, v.indicator_code
"""

MEMBERS_SQL = f"""
WITH {KEPT}
SELECT pole_id, member_no, nom, categorie, forme_juridique, annee_adhesion, etp
FROM current_members JOIN kept USING (submission_id, pole_id, period) WHERE period = $period
ORDER BY pole_id, member_no
"""

CRITERIA_SQL = f"""
WITH {KEPT}
SELECT pole_id, criterion_code, answer, justification
FROM current_criteria JOIN kept USING (submission_id, pole_id, period) WHERE period = $period
ORDER BY pole_id, criterion_code
"""

ISSUES_SQL = """
SELECT v.code, v.severity, count(DISTINCT c.pole_id) AS n_poles, count(*) AS n_occurrences
FROM completeness c
JOIN validation_issues v ON v.submission_id = c.submission_id
WHERE c.period = $period
GROUP BY v.code, v.severity
ORDER BY v.severity DESC, n_poles DESC, v.code
"""

SUBMISSIONS_SQL = f"""
WITH {KEPT}
SELECT submission_id, pole_id, status, sha256, received_at, late, referentiel_version,
       review_state
FROM current_submissions JOIN kept USING (submission_id, pole_id, period) WHERE period = $period
ORDER BY submission_id
"""

REVIEW_SQL = """
SELECT pole_id, submission_id, coalesce(review_state, 'a_revoir') AS review_state, reviewed_at
FROM current_submissions WHERE period = $period
ORDER BY pole_id, submission_id
"""

CAMPAIGNS_SQL = """
SELECT period, deadline, closed, closed_at, coalesce(keep_unreviewed, false) AS keep_unreviewed
FROM campaigns ORDER BY period
"""


def load_period(
    con,
    ref: Referentiel,
    period: int,
    now: dt.datetime | None = None,
    secret_min: int = SECRET_MIN,
    *,
    public: bool = False,
) -> PeriodData:
    """The figures of `period` for the internal release, or (`public`) for the open-data one:
    each rests on the declarations in force that `scope.kept_states` keeps for it."""
    now = now or dt.datetime.now(dt.UTC)
    campaigns = _df(con, CAMPAIGNS_SQL, {})
    by_period = {int(c["period"]): c for c in campaigns.to_dict("records")}
    kept = scope.kept_states(by_period.get(period), public=public)
    kept_prev = scope.kept_states(by_period.get(period - 1), public=public)
    p = {"period": period}
    k = {**p, "kept": list(kept), "kept_prev": list(kept_prev)}
    poles = _df(con, POLES_SQL, k)
    fields = [f.key for f in ref.identity if f.key in PUBLIC_IDENTITY and not f.personal]
    identity = _df(con, IDENTITY_SQL, {**k, "fields": fields})
    wide = (
        identity.pivot_table(
            index="submission_id", columns="field", values="value", aggfunc="first"
        ).reset_index()
        if len(identity)
        else pd.DataFrame({"submission_id": pd.Series(dtype="int64")})
    )
    for key in PUBLIC_IDENTITY:
        if key not in wide:
            wide[key] = None
    poles = poles.merge(wide, on="submission_id", how="left")
    poles["nom"] = poles["registry_name"].where(poles["registry_name"].notna(), poles["nom"])
    poles = poles.drop(columns=["registry_name"])
    expected = _df(con, EXPECTED_SQL, {**p, "now": now})
    stats = _df(con, STATS_SQL, k)
    ranks = _df(con, RANKS_SQL, {**k, "secret_min": secret_min})
    members = _df(con, MEMBERS_SQL, k)
    for spec in ref.members:  # a member column made personnelle is never published
        if spec.personal and spec.key in members and spec.key not in ("pole_id", "member_no"):
            members[spec.key] = None
    return PeriodData(
        period=period,
        version=period_version(con, period),
        now=now,
        poles=poles,
        expected=expected,
        stats=stats,
        ranks=ranks,
        members=members,
        criteria=_df(con, CRITERIA_SQL, k),
        issues=_df(con, ISSUES_SQL, p),
        campaigns=campaigns,
        submissions=_df(con, SUBMISSIONS_SQL, k),
        review=_df(con, REVIEW_SQL, p),
        kept=kept,
        kept_prev=kept_prev,
    )
