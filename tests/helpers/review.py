"""The national review as tests need it: sign off the declarations in force of a home (the
public release rests on signed-off declarations only), through the real `ptce review` library."""

from __future__ import annotations

from helpers.workbooks import q


def in_force(settings, period: int | None = None) -> list[int]:
    """The submission ids of the declarations in force (of `period`, or every period)."""
    rows = q(
        settings.live_db,
        "SELECT submission_id FROM submissions WHERE status IN "
        "('acceptee', 'acceptee_avec_avertissements') AND (? IS NULL OR period = ?) "
        "ORDER BY submission_id",
        period,
        period,
    )
    return [r[0] for r in rows]


def sign_off(settings, sids: list[int] | None = None, *, period: int | None = None) -> list[int]:
    """Sign off `sids` (default: every declaration in force of `period`) → the ids signed off."""
    from ptce_pipeline.ingestion.review import decide

    targets = in_force(settings, period) if sids is None else sids
    if targets:
        decide(settings, targets, "validee", comment=None, by="relecture")
    return targets
