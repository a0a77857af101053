"""Real workbooks and homes for the tests: templates filled by the same writer the poles get
(the demo generator's plausible data), broken in exactly one place when a test needs it."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from pathlib import Path

from ptce_pipeline.catalogue.referentiel import Referentiel
from ptce_pipeline.catalogue.registry import Pole, write_registry
from ptce_pipeline.config import Settings, load_settings
from ptce_pipeline.template import FilledData, build_template, demo, fill_workbook, workbook_bytes

DATA = Path(__file__).resolve().parents[1] / "data"


@functools.cache
def packaged_ref() -> Referentiel:
    """The packaged référentiel (what the `ref` fixture gives), for module-level helpers."""
    from ptce_pipeline.catalogue.referentiel import load_referentiel

    return load_referentiel()


def filled(
    ref: Referentiel, pole_id: str = "PTCE-001", period: int = 2024, seed: int = 7
) -> FilledData:
    """Plausible, valid data for one pole and period (the demo generator, no mistakes)."""
    pole = next(p for p in demo.POLES if p.pole_id == pole_id)
    return demo.pole_data(ref, pole, period, random.Random(f"{seed}-{pole_id}"), {})


def workbook(
    ref: Referentiel,
    data: FilledData,
    *,
    pole_id: str | None = None,
    period: int | None = None,
    edit: Callable | None = None,
) -> bytes:
    """Bytes of a template filled with `data`; `edit(wb)` breaks it in exactly one place."""
    reg = {p.pole_id: p for p in demo.registry()}
    pid = pole_id or data.identity.get("pole_id")
    wb = build_template(ref, pole=reg.get(pid), period=period or data.identity.get("periode"))
    fill_workbook(wb, ref, data)
    if edit is not None:
        edit(wb)
    return workbook_bytes(wb)


def make_home(root: Path, *, poles: list[Pole] | None = None, **env) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    write_registry(root / "poles.csv", poles if poles is not None else demo.registry())
    (root / "campagnes.csv").write_text(
        "periode,date_limite\n2024,2099-03-31\n2025,2099-03-31\n", encoding="utf-8"
    )
    environ = {
        "PTCE_WORKERS": "2",
        "PTCE_SETTLE": "0",
        "PTCE_PREFECT_HOME": str(root / ".prefect"),
        **env,
    }
    return load_settings(environ, home=root)


def drop(settings: Settings, folder: str, name: str, data: bytes) -> Path:
    target = settings.inbox / folder if folder else settings.inbox
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    path.write_bytes(data)
    return path


def q(path, sql, *params):
    """Rows of a query on a DuckDB file opened read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def set_indicator(code, value):
    """A `change=` for make_workbook: one indicator typed differently."""

    def change(data):
        data.indicators[code] = value

    return change
