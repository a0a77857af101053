"""One file's verdict and issues: the compact per-file view that `ptce check --json` prints
and the tests assert on (like frictionless' `Report.flatten`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.validation.batch import status_of

JSON_KEYS = ("sheet", "cell", "column", "code", "severity", "message", "value")
FLAT_KEYS = ("sheet", "cell", "code", "severity")


@dataclass
class FileReport:
    file: str
    status: str
    issues: list[I.Issue] = field(default_factory=list)
    annotated: str | None = None

    @classmethod
    def of(cls, file: str, issues: list[I.Issue]) -> FileReport:
        return cls(file, status_of(issues), list(issues))

    @property
    def refused(self) -> bool:
        return self.status == "refusee"

    def flatten(self, keys: tuple[str, ...] = FLAT_KEYS) -> list[tuple]:
        """One tuple per issue, in report order: `[("Indicateurs", "D14", "out-of-range", "erreur")]`."""
        return [tuple(getattr(i, k) for k in keys) for i in self.issues]

    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    def to_json(self, *, with_annotated: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "status": self.status,
            "issues": [{k: getattr(i, k) for k in JSON_KEYS} for i in self.issues],
        }
        if with_annotated:
            out["annotated"] = self.annotated
        return out
