"""The statistical secret of the open-data release: which aggregate cells of restricted fields
are masked.

Primary rules (INSEE's for business statistics), on the poles that contribute to a cell:
- frequency: fewer than `SECRET_MIN` poles;
- dominance: one pole above `DOMINANCE` of the cell's sum.

Secondary suppression: every published linear relation is a *group* — a total and the parts
that add up to it (a region's jobs and the national total, the members' FTE by category and
the national total, …); a cell that appears in several tables is one variable, masked
everywhere at once. A masked cell must not be recoverable, not exactly and not within
`PROTECTION` of its value, from the unmasked cells of its groups and non-negativity. The
heuristic: in a group whose total is published, the other masked parts must add up to at least
`PROTECTION` × the cell (and to more than 0, so that a cell worth 0 is not pinned at 0); a
masked total needs masked parts adding up to `PROTECTION` × itself. When a group falls short,
the smallest unmasked part that closes the gap is masked (the largest when none does; the
total when no part is left), and every group is checked again until none falls short.

Deterministic: ties are broken by the cell's name, never by dict or set order. Pure Python
(no solver): the test suite audits the result with a linear program.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .fmt import SECRET_MIN

DOMINANCE = 0.85  # one pole above this share of a sum masks it
PROTECTION = 0.10  # a masked cell's feasible range must reach ±10 % of its value
QUANTILE_MIN = 10  # quartiles and medians of a restricted field: over at least this many poles


@dataclass(frozen=True)
class Cell:
    """One aggregate of a restricted field: its value and each contributing pole's share."""

    value: float
    contributions: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable) -> Cell | None:
        """The sum of the non-missing `values` (one per pole); None when no pole contributes."""
        kept = tuple(float(v) for v in values if v is not None and v == v)
        return cls(float(sum(kept)), kept) if kept else None


@dataclass(frozen=True)
class Group:
    """A published relation: sum(parts) == total."""

    parts: tuple[str, ...]
    total: str


def primary(cell: Cell) -> bool:
    n = len(cell.contributions)
    if 0 < n < SECRET_MIN:
        return True
    total = sum(abs(v) for v in cell.contributions)
    return total > 0 and max(abs(v) for v in cell.contributions) > DOMINANCE * total


def _short(x: str, group: Group, cells: dict[str, Cell], masked: set[str]) -> float | None:
    """How much masked value `x` still lacks in `group` (None: protected enough)."""
    value = cells[x].value
    if x == group.total:
        others = [p for p in group.parts if p in masked]
        if not others:
            return max(PROTECTION * value, 0.0) or float("inf")
    else:
        if group.total in masked:
            return None
        others = [p for p in group.parts if p in masked and p != x]
    slack = sum(cells[p].value for p in others)
    need = PROTECTION * abs(value)
    if slack >= need and (slack > 0 or x == group.total):
        return None
    return max(need - slack, 0.0)


def suppress(cells: dict[str, Cell], groups: Sequence[Group]) -> set[str]:
    """The names of the cells to mask: primary ones, then secondary ones."""
    masked = {name for name in sorted(cells) if primary(cells[name])}
    groups = [
        Group(tuple(p for p in g.parts if p in cells), g.total) for g in groups if g.total in cells
    ]
    for _ in range(10 * len(cells) + 10):
        changed = False
        for group in groups:
            members = [*group.parts, group.total]
            for x in sorted(m for m in members if m in masked):
                gap = _short(x, group, cells, masked)
                if gap is None:
                    continue
                free = sorted(
                    (p for p in group.parts if p not in masked and p != x),
                    key=lambda p: (cells[p].value, p),
                )
                closing = [p for p in free if cells[p].value >= gap and cells[p].value > 0]
                if closing:
                    masked.add(closing[0])
                elif free:
                    masked.add(free[-1])
                elif group.total not in masked:
                    masked.add(group.total)
                else:
                    continue
                changed = True
        if not changed:
            return masked
    return masked
