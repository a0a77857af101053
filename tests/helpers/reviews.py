"""A pole's review story (issue 19), for the reviewer's view tests in store/ and cli/: 2024 in
force; 2025 sent (v1), sent back by a reviewer, then sent again (v2) with one indicator
changed (a large change, commented by the pole), one member's SIRET changed, a member added
and one removed, a criterion answered differently."""

from __future__ import annotations

import copy
from pathlib import Path

from helpers.workbooks import drop, filled, make_home, q, workbook
from ptce_pipeline.ingestion.review import decide
from ptce_pipeline.ingestion.run import run_ingest

POLE = "PTCE-001"


def sid_of(settings, name: str) -> int:
    return q(
        settings.live_db, "SELECT submission_id FROM submissions WHERE original_name = ?", name
    )[0][0]


def review_story(root: Path, ref) -> dict:
    settings = make_home(root, PTCE_USER="revue")
    d24 = copy.deepcopy(filled(ref, POLE, 2024))
    drop(settings, POLE, "p2024.xlsx", workbook(ref, d24))
    run_ingest(settings)
    v1 = copy.deepcopy(filled(ref, POLE, 2025))
    first = next(iter(v1.criteria))
    v1.criteria[first] = ("non", None)
    v1.indicators["IND05"] = d24.indicators["IND05"]
    drop(settings, POLE, "v1.xlsx", workbook(ref, v1))
    run_ingest(settings)
    decide(settings, [sid_of(settings, "v1.xlsx")], "a_corriger", comment="IND05 ?", by="Alice")
    v2 = copy.deepcopy(v1)
    v2.indicators["IND05"] = d24.indicators["IND05"] * 20  # a large change: a warning
    v2.indicator_comments["IND05"] = "Nouveau financement régional"
    v2.members[1]["siret"] = "73282932000074"
    removed = v2.members.pop(2)
    v2.members.append({**v2.members[0], "nom": "Coopérative Nouvelle", "siret": "35600000000048"})
    v2.criteria[first] = ("oui", "Convention signée en 2025")
    drop(settings, POLE, "v2.xlsx", workbook(ref, v2))
    run_ingest(settings)
    return {
        "settings": settings,
        "d24": d24,
        "v1": v1,
        "v2": v2,
        "removed": removed,
        "criterion": first,
        "ids": {n: sid_of(settings, n) for n in ("p2024.xlsx", "v1.xlsx", "v2.xlsx")},
    }
