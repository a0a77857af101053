"""The annotated copy of a pole's workbook, built in a child process under the readers' limits
(`Limits.worker_memory_mb`, `Limits.parse_timeout_s`): however the file is shaped, building
its copy costs this process nothing. When a limit is hit the copy is skipped, and `skipped`
says why in French for the receipt (which lists every problem anyway)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.config import Limits
from ptce_pipeline.feedback.annotate import annotated_workbook
from ptce_pipeline.reading.limited import MEMORY, TIME, LimitedRunner

# A filled template is about 30 KB: a workbook far bigger than that gets no annotated copy.
MAX_ANNOTATE_BYTES = 5 * 1024 * 1024


@dataclass
class Copy:
    data: bytes | None = None  # the annotated workbook, or None
    skipped: str | None = None  # why no copy was made, in French, when the pole should know


def annotate_file(path: str, file_format: str | None, issues: list[I.Issue]) -> bytes | None:
    """`annotated_workbook` of the file at `path` (what the child process runs)."""
    return annotated_workbook(Path(path).read_bytes(), file_format, issues)


def skipped_text(why: str, limits: Limits) -> str:
    if why == MEMORY:
        cause = f"sa construction dépassait la limite de mémoire ({limits.worker_memory_mb} Mo)"
    elif why == TIME:
        cause = f"sa construction dépassait la limite de temps ({limits.parse_timeout_s:.0f} s)"
    else:
        cause = f"le classeur dépasse {MAX_ANNOTATE_BYTES // (1024 * 1024)} Mo"
    return (
        f"La copie annotée de votre classeur n'a pas été produite : {cause}. Toutes les "
        "anomalies sont listées ci-dessous ; corrigez-les dans votre classeur puis déposez-le "
        "de nouveau."
    )


def annotated_copy(
    runner: LimitedRunner, path: Path, file_format: str | None, issues: list[I.Issue]
) -> Copy:
    """The annotated copy of the workbook at `path`, built by `runner`'s child process."""
    try:
        size = path.stat().st_size
    except OSError:
        return Copy()
    if size > MAX_ANNOTATE_BYTES:
        return Copy(skipped=skipped_text("size", runner.limits))
    done = runner.call(annotate_file, str(path), file_format, list(issues))
    if done.hit in (MEMORY, TIME):
        return Copy(skipped=skipped_text(done.hit, runner.limits))
    if not done.ok or not isinstance(done.value, bytes):
        return Copy()  # a workbook openpyxl cannot open: the receipt says nothing more
    return Copy(data=done.value)
