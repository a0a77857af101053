"""`ptce check`: validate workbooks without loading anything, with the same reader (worker
processes under limits) and the same rules as an ingestion.

With a home, the registry rules apply (pole registered, period within its participation) and
the previous period comes from the analysts' snapshot, never from the live warehouse; without
one, those rules are skipped and said to be. `--pole` applies the folder rule as if the files
had been dropped in that pole's folder.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

from ptce_pipeline.catalogue import display
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue.registry import POLE_ID_RE
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.feedback import annotated_copy
from ptce_pipeline.ingestion.readvalidate import contents_of, previous_periods, validate_outcomes
from ptce_pipeline.reading.limited import LimitedRunner
from ptce_pipeline.validation import FileReport, status_of

VERDICT = {
    "acceptee": "acceptable",
    "acceptee_avec_avertissements": "acceptable avec avertissements",
    "refusee": "serait refusé",
}


class Checked(FileReport):
    """One file's report: the compact view `--json` prints (`FileReport`), and its French lines
    for the terminal."""

    def lines(self, width: int = 100) -> list[str]:
        errors, warns = I.counts(self.issues)
        out = [
            f"{display.terminal(self.file)} — {VERDICT[self.status]} ({errors} erreur(s), {warns} avertissement(s))"
        ]
        if self.issues:
            # shown as the terminal will show them (`display`), so the columns line up
            rows = [
                tuple(
                    display.terminal(t)
                    for t in (i.sheet or "—", i.cell or "—", i.severity, i.code, i.message)
                )
                for i in self.issues
            ]
            head = ("Feuille", "Cellule", "Gravité", "Code", "Message")
            sizes = [max(len(r[c]) for r in [head, *rows]) for c in range(4)]
            indent = 2 + sum(sizes) + 2 * 4
            wrap = max(30, width - indent)
            for row in [head, *rows]:
                cells = "  ".join(t.ljust(size) for t, size in zip(row[:4], sizes, strict=True))
                message = textwrap.wrap(row[4], wrap, break_on_hyphens=False) or [""]
                out.append(f"  {cells}  {message[0]}")
                out.extend(" " * indent + more for more in message[1:])
        if self.annotated:
            out.append(f"  Copie annotée : {display.terminal(self.annotated)}")
        return out


def summary(results: list[Checked]) -> str:
    n = {s: sum(1 for r in results if r.status == s) for s in VERDICT}
    return (
        f"Bilan sur {len(results)} fichier(s) : acceptables {n['acceptee']} ; acceptables avec "
        f"avertissements {n['acceptee_avec_avertissements']} ; seraient refusés {n['refusee']}."
    )


def terminal_width() -> int:
    return max(80, min(160, shutil.get_terminal_size((120, 24)).columns))


def check_files(
    settings: Settings,
    files: list[Path],
    *,
    pole: str | None = None,
    annotate: Path | None = None,
    notes: list[str] | None = None,
) -> list[Checked]:
    """Read and validate `files` → one verdict each, in order. `notes` collects what the
    user should know about the run (rules skipped for want of a home)."""
    from ptce_pipeline.catalogue.referentiel import load_referentiel, referentiel_bytes
    from ptce_pipeline.catalogue.registry import load_registry
    from ptce_pipeline.reading.sandbox import ReaderPool
    from ptce_pipeline.validation import Context

    notes = notes if notes is not None else []
    has_home = settings.registry_path.is_file()
    ref_path = settings.referentiel_path if settings.home.is_dir() else None
    ref = load_referentiel(ref_path)
    registry = load_registry(settings.registry_path) if has_home else None
    if registry is None:
        notes.append(
            f"Pas d'installation dans {settings.home} (poles.csv introuvable) : l'inscription "
            "des pôles et leur période de participation ne sont pas contrôlées."
        )
    if pole is not None:
        if not POLE_ID_RE.match(pole):
            raise ConfigError(f"--pole {pole} : identifiant invalide (attendu : PTCE-001…).")
        if registry is not None and pole not in registry.poles:
            raise ConfigError(f"--pole {pole} : ce pôle n'est pas inscrit dans poles.csv.")
    targets = _targets(files, annotate)
    with ReaderPool(
        referentiel_bytes(ref_path), ref.source, settings.limits, settings.workers
    ) as pool:
        outcomes = pool.read([str(f) for f in files])
    contents = contents_of(outcomes)
    previous = None
    if contents and settings.snapshot_db.is_file():
        # the previous period of each pole, from the analysts' snapshot (as an ingestion)
        previous = previous_periods(settings, contents).lookup
    ctx = Context(ref=ref, registry=registry, today=settings.clock().date(), previous=previous)
    results = validate_outcomes(outcomes, [pole] * len(outcomes), ctx)
    found: list[tuple[list[I.Issue], str | None]] = [
        ([I.make("corrupt-file", detail="lecture impossible")], None)
        if r is None
        else (r.issues, r.file_format)
        for r in results
    ]
    checked = []
    with LimitedRunner(settings.limits) as runner:  # annotated copies: under the readers' limits
        for path, (issues, file_format), target in zip(files, found, targets, strict=True):
            c = Checked(str(path), status_of(issues), issues)
            if target is not None and issues:
                copy = annotated_copy(runner, path, file_format, issues)
                if copy.data is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(copy.data)
                    c.annotated = str(target)
                elif copy.skipped:
                    notes.append(f"{path} : {copy.skipped}")
            checked.append(c)
    return checked


def _targets(files: list[Path], annotate: Path | None) -> list[Path | None]:
    """OUT is the annotated file for one input (unless it is a folder), a folder for several."""
    if annotate is None:
        return [None] * len(files)
    folder = annotate.is_dir() or len(files) > 1 or str(annotate).endswith(("/", "\\"))
    if not folder:
        return [annotate]
    if annotate.exists() and not annotate.is_dir():
        raise ConfigError(
            f"--annotate {annotate} : avec plusieurs fichiers, indiquez un dossier (c'est un fichier)."
        )
    out, used = [], set()
    for path in files:
        stem = re.sub(r"[^\w.\-]+", "_", path.stem)[:80] or "classeur"
        name, n = f"{stem}_annote.xlsx", 2
        while name in used:
            name, n = f"{stem}_{n}_annote.xlsx", n + 1
        used.add(name)
        out.append(annotate / name)
    return out
