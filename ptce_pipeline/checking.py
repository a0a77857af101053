"""`ptce check`: validate workbooks without loading anything (same reader, same rules)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import issues as I
from .config import Settings
from .feedback import annotated_workbook
from .ledger import Result
from .registry import Registry, load_campaigns, load_registry
from .validation import status_of


@dataclass
class Checked:
    file: str
    status: str
    issues: list[I.Issue] = field(default_factory=list)
    annotated: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "issues": [{k: v for k, v in i.to_dict().items() if k != "file"} for i in self.issues],
        }

    def lines(self) -> list[str]:
        errors, warns = I.counts(self.issues)
        label = {
            "acceptee": "acceptable",
            "acceptee_avec_avertissements": "acceptable avec avertissements",
            "refusee": "serait refusé",
        }[self.status]
        out = [f"{self.file} : {label} ({errors} erreur(s), {warns} avertissement(s))"]
        for i in self.issues:
            out.append(f"  {i.located():<22} {i.severity:<14} {i.code:<28} {i.message}")
        if self.annotated:
            out.append(f"  copie annotée : {self.annotated}")
        return out


def check_files(
    settings: Settings, files: list[Path], *, pole: str | None = None, annotate: Path | None = None
) -> list[Checked]:
    from .processing import Processor  # noqa: F401  (keeps import order explicit)
    from .referentiel import load_referentiel, referentiel_bytes
    from .sandbox import ReaderPool
    from .validation import Context, Item, validate_batch

    has_home = settings.registry_path.exists()
    ref_path = settings.referentiel_path if settings.home.is_dir() else None
    ref = load_referentiel(ref_path)
    registry: Registry | None = load_registry(settings.registry_path) if has_home else None
    campaigns = load_campaigns(settings.campaigns_path) if has_home else None
    with ReaderPool(
        referentiel_bytes(ref_path), ref.source, settings.limits, settings.workers
    ) as pool:
        outcomes = pool.read([str(f) for f in files])
    items, where = [], []
    results: list[Result] = []
    for k, o in enumerate(outcomes):
        if o.crashed:
            results.append(Result([I.make("corrupt-file", detail="lecture impossible")]))
        elif o.content is None:
            results.append(Result(list(o.issues)))
        else:
            results.append(Result([], o.content, o.format))
            items.append(Item(o.content, pole))
            where.append(k)
    if items:
        ctx = Context(ref=ref, registry=registry, campaigns=campaigns, today=dt.date.today())
        for k, issues in zip(where, validate_batch(items, ctx), strict=True):
            results[k].issues = issues
    checked = []
    for path, r in zip(files, results, strict=True):
        c = Checked(str(path), status_of(r.issues), r.issues)
        if annotate is not None and r.issues:
            target = (
                annotate
                if len(files) == 1 and annotate.suffix.lower() == ".xlsx"
                else annotate / f"{_stem(path)}_annote.xlsx"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            data = annotated_workbook(path.read_bytes(), r.file_format, r.issues)
            if data is not None:
                target.write_bytes(data)
                c.annotated = str(target)
        checked.append(c)
    return checked


def _stem(path: Path) -> str:
    return re.sub(r"[^\w.\-]+", "_", path.stem)[:80] or "classeur"
