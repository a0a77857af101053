"""The demo's second campaign, as poles fill it once `ptce campaign prepare` has pre-filled
their workbooks from the first: each demo pole opens the workbook left in its `retours/`,
types its 27 values of the period (and, on the fixed poles, the mistakes of `demo._mistakes`),
and drops it in its folder. Byte-identical for a seed and the same prepared workbooks."""

from __future__ import annotations

import copy
import io
import random
from pathlib import Path

from openpyxl import load_workbook

from ptce_pipeline.catalogue import Referentiel
from ptce_pipeline.config import Settings
from ptce_pipeline.template.demo import PERIODS, POLES, _mistakes, drop_file, pole_data
from ptce_pipeline.template.fill import FilledData, fill_workbook
from ptce_pipeline.xlsx_writer import workbook_bytes


def typed_in_prepared(ref: Referentiel, pole_id: str, seed: int) -> FilledData:
    """What a demo pole types into its pre-filled workbook of the last period: the period's
    indicator values, and only what its mistakes change of the rest."""
    pole = next(p for p in POLES if p.pole_id == pole_id)
    rng = random.Random(f"{seed}-{pole_id}")
    base: dict = {}
    for period in PERIODS:  # the same draws as `demo.workbooks`
        clean = pole_data(ref, pole, period, rng, base)
    wrong = _mistakes(copy.deepcopy(clean), pole_id, PERIODS[-1])
    return FilledData(
        identity={k: v for k, v in wrong.identity.items() if clean.identity.get(k) != v},
        members=wrong.members if wrong.members != clean.members else [],
        indicators=wrong.indicators,
        criteria={k: v for k, v in wrong.criteria.items() if clean.criteria.get(k) != v},
    )


def second_campaign(
    settings: Settings, ref: Referentiel, seed: int, prepared: dict[str, Path]
) -> list[Path]:
    """Fill each demo pole's prepared workbook (`prepared`: pole id → its path) and drop it."""
    dropped = []
    period = PERIODS[-1]
    for pole in POLES:
        path = prepared.get(pole.pole_id)
        if path is None:
            continue
        wb = load_workbook(io.BytesIO(path.read_bytes()))
        fill_workbook(wb, ref, typed_in_prepared(ref, pole.pole_id, seed))
        name = f"suivi_{pole.pole_id}_{period}.xlsx"
        dropped.append(drop_file(settings, pole.pole_id, name, workbook_bytes(wb)))
    return dropped
