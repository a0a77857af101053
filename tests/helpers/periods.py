"""A national-scale period without reading hundreds of workbooks: one real workbook read once,
then N poles decided through the real ledger (each with its own region, jobs and members'
FTE), the analysts' snapshot refreshed, as `benchmarks/warehouse_10k.py` does."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from pathlib import Path

from helpers.workbooks import filled, make_home, workbook

LONELY_REGION = "94"  # Corse: one pole alone, below the threshold


def national_period(
    root: Path,
    n: int = 200,
    period: int = 2025,
    seed: int = 7,
    *,
    waiting: Callable[[int, str], bool] | None = None,
):
    """Every declaration is signed off by the national review (the public release rests on
    those only), but those for which `waiting(index, region)` is true: they wait for review."""
    from ptce_pipeline.catalogue.context import load_config
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.catalogue.registry import Pole
    from ptce_pipeline.reading.sandbox import read_one
    from ptce_pipeline.store.mirror import Mirror
    from ptce_pipeline.store.records import Result
    from ptce_pipeline.store.snapshot import publish_snapshot
    from ptce_pipeline.store.warehouse import Generation, load_reference

    ref = load_referentiel()
    geo = ref.geography
    rng = random.Random(seed)
    regions = sorted(r for r in geo.regions if r != LONELY_REGION)
    deps = {
        r: sorted(d for d, (_, reg) in geo.departements.items() if reg == r) for r in geo.regions
    }
    poles = [Pole(f"PTCE-{k:03d}", f"Pôle {k}", "69", 2000, None) for k in range(1, n + 1)]
    settings = make_home(root, poles=poles)
    cfg = load_config(settings)
    content = read_one(workbook(ref, filled(ref, "PTCE-001", period)), ref, settings.limits).content
    base_members = content.members
    gen = Generation(settings)
    con = gen.open()
    at = dt.datetime(period + 1, 1, 15, tzinfo=dt.UTC)
    load_reference(con, cfg.ref, cfg.registry, cfg.campaigns, at)
    mirror = Mirror(con, cfg.personal_fields)
    ledger = mirror.ledger
    weights = [rng.uniform(0.3, 3.0) for _ in regions]
    for i, pole in enumerate(poles):
        region = LONELY_REGION if i == n // 2 else rng.choices(regions, weights)[0]
        dep = deps[region][0] if deps[region] else ""
        content.identity["pole_id"].value = pole.pole_id
        content.identity["periode"].value = period
        content.identity["region"].value = region
        content.identity["departement"].value = dep
        for code, cell in content.indicators.items():
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                ind = ref.indicator_by_code[code]
                top = ind.max if ind.max is not None else 1000
                cell.value = round(rng.uniform(0, min(top, 1000)), 1 if not ind.integer else 0)
        content.indicators["IND22"].value = round(rng.lognormvariate(4, 1), 1)
        for member in base_members:
            if "etp" in member and member["etp"].value is not None:
                member["etp"].value = round(rng.lognormvariate(2, 1.2), 1)
        sha = hashlib.sha256(f"{seed}-{i}".encode()).hexdigest()
        ledger.delivery(
            {
                "seq": i + 1,
                "at": at.isoformat(),
                "folder": pole.pole_id,
                "name": f"suivi-{i}.xlsx",
                "size": 30000,
                "sha256": sha,
                "archived_path": f"warehouse/archive/{sha}.xlsx",
            },
            registered=True,
        )
        out = ledger.decide(
            i + 1,
            registered=True,
            result=Result(issues=[], content=content, file_format="xlsx"),
            versions=cfg.versions,
            at=at,
            late_fn=lambda p, r: False,
            feedback_paths={"receipt": f"inbox/{pole.pole_id}/retours/{i}_recu.html"},
        )
        if waiting is None or not waiting(i, region):
            ledger.review(n + i + 1, out.submission_id, "validee", None, "relecture", at)
    ledger.last_seq = 2 * n
    mirror.flush()
    gen.commit()
    publish_snapshot(settings, full=True)
    return settings
