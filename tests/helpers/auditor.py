"""An attacker's audit of a published release: from its CSV files alone, every linear relation
the release exposes (each "Ensemble" row = the sum of the rows above it, column by column; the
same total published in several tables; mean × poles = total; non-negativity of counts and
amounts), then for each masked cell its smallest and largest feasible value
(`scipy.optimize.linprog`). Works on the open-data CSV (comma, dot) and on the French CSV
(semicolon, decimal comma) of earlier releases, so that it can show what they gave away."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "secret"
TOTAL_ROW = "Ensemble"
ADDITIVE = ("Membres", "Emplois", "ETP", "Pôles", "Total")  # column headers that add up
NOT_ADDITIVE = ("Part", "Moyenne", "quartile", "Médiane", "Unité", "Évolution")


def read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=dialect))
    if dialect == ";":
        for row in rows:
            for k, v in row.items():
                if v and v != SECRET and _is_number(v.replace(",", ".")):
                    row[k] = v.replace(",", ".")
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class Model:
    names: list[str] = field(default_factory=list)  # one LP variable per masked cell
    index: dict[str, int] = field(default_factory=dict)
    equations: list[tuple[dict[int, float], float]] = field(default_factory=list)  # Σ a·x = b

    def term(self, key: str, text: str) -> tuple[int | None, float]:
        """A cell as (variable, 0) when masked, (None, value) when published."""
        if text == SECRET:
            if key not in self.index:
                self.index[key] = len(self.names)
                self.names.append(key)
            return self.index[key], 0.0
        return None, float(text) if text not in ("", None) else 0.0

    def equal(self, left: list[tuple[str, str, float]], right: list[tuple[str, str, float]]):
        """Σ coef·cell (left) = Σ coef·cell (right); a cell is (key, text, coef)."""
        coefs: dict[int, float] = {}
        const = 0.0
        for side, sign in ((left, 1.0), (right, -1.0)):
            for key, text, coef in side:
                var, value = self.term(key, text)
                if var is None:
                    const -= sign * coef * value
                else:
                    coefs[var] = coefs.get(var, 0.0) + sign * coef
        if coefs:
            self.equations.append((coefs, const))


def _additive(header: str) -> bool:
    return any(a in header for a in ADDITIVE) and not any(n in header for n in NOT_ADDITIVE)


def build(folder: Path) -> Model:
    model = Model()
    data = folder / "donnees"
    totals: dict[str, list[tuple[str, str]]] = {}  # shared quantity → cells publishing it
    for path in sorted(data.glob("*.csv")):
        rows = read_csv(path)
        if not rows:
            continue
        stub = next(iter(rows[0]))
        key = path.stem
        body = [r for r in rows if r[stub] != TOTAL_ROW]
        total = next((r for r in rows if r[stub] == TOTAL_ROW), None)
        for header in rows[0]:
            cells = [(f"{key}|{i}|{header}", r[header]) for i, r in enumerate(rows)]
            if total is not None and _additive(header):
                parts = [(f"{key}|{rows.index(r)}|{header}", r[header], 1.0) for r in body]
                model.equal(parts, [(f"{key}|{rows.index(total)}|{header}", total[header], 1.0)])
            del cells
        if total is not None:
            for header in rows[0]:
                if "ETP" in header:
                    totals.setdefault("membres.etp", []).append(
                        (f"{key}|{rows.index(total)}|{header}", total[header])
                    )
                if "Emplois directs" in header:
                    totals.setdefault("IND22", []).append(
                        (f"{key}|{rows.index(total)}|{header}", total[header])
                    )
        if "Code" in rows[0] and "Total" in rows[0]:
            for i, r in enumerate(rows):
                code = r["Code"]
                if code.startswith("IND"):
                    totals.setdefault(code, []).append((f"{key}|{i}|Total", r["Total"]))
                    n = float(r.get("Pôles répondants") or 0)
                    if "Moyenne" in r and n:
                        mean = (f"{key}|{i}|Moyenne", r["Moyenne"], n)
                        target = (
                            (f"{key}|{i}|Total", r["Total"], 1.0)
                            if r["Total"] not in ("",)
                            else (f"{key}|{i}|Somme", SECRET, 1.0)
                        )
                        model.equal([mean], [target])
    for cells in totals.values():
        for (k1, t1), (k2, t2) in itertools.pairwise(cells):
            model.equal([(k1, t1, 1.0)], [(k2, t2, 1.0)])
    return model


def ranges(model: Model) -> dict[str, tuple[float, float]]:
    """Smallest and largest feasible value of each masked cell (inf when unbounded)."""
    import numpy as np
    from scipy.optimize import linprog

    n = len(model.names)
    if not n:
        return {}
    a = np.zeros((len(model.equations), n))
    b = np.zeros(len(model.equations))
    for row, (coefs, const) in enumerate(model.equations):
        for var, coef in coefs.items():
            a[row, var] = coef
        b[row] = const
    out = {}
    for var, name in enumerate(model.names):
        c = np.zeros(n)
        c[var] = 1.0
        bounds = [(0, None)] * n
        eq = {"A_eq": a, "b_eq": b} if len(b) else {}
        low = linprog(c, bounds=bounds, method="highs", **eq)
        high = linprog(-c, bounds=bounds, method="highs", **eq)
        lo = low.fun if low.status == 0 else 0.0
        hi = -high.fun if high.status == 0 else float("inf")
        out[name] = (lo, hi)
    return out


def exposed(
    model: Model, truth: dict[str, float], margin: float = 0.10, eps: float = 1e-6
) -> list[str]:
    """Masked cells pinned exactly or within ±margin of their true value."""
    bad = []
    for name, (lo, hi) in ranges(model).items():
        if name not in truth:
            continue
        v = truth[name]
        if v == 0:
            if hi <= eps:
                bad.append(f"{name}: 0 pinned at 0")
        elif not (lo <= (1 - margin) * v + eps and hi >= (1 + margin) * v - eps):
            bad.append(f"{name}: {v} in [{lo:.3f}, {hi:.3f}]")
    return bad


def truth_of(internal: Path, model: Model) -> dict[str, float]:
    """The true value of each masked cell, from the same table of the internal release."""
    out = {}
    for name in model.names:
        key, i, header = name.split("|")
        path = internal / "donnees" / f"{key}.csv"
        if not path.exists():
            continue
        rows = read_csv(path)
        text = rows[int(i)].get(header, "")
        if text and text != SECRET and _is_number(text):
            out[name] = float(text)
    return out
