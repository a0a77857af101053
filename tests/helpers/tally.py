"""Tallies the suite prints at its end (pytest_terminal_summary in conftest): the hostile
corpus line, the new hostile cases by family, and the fault-injection line. Tests record into
them; each test asserts its own promises, so the summary only reports."""

from __future__ import annotations

import collections

FAULTS: collections.Counter = collections.Counter()
CORPUS: dict[str, str] = {}  # the corpus summary line, once the corpus ran
CASES: dict[str, dict[str, bool]] = collections.defaultdict(dict)  # family → case → held
FIGURES: dict[str, str] = {}  # measured figures to report (never asserted): name → text


def case(family: str, name: str, held: bool) -> None:
    """Record one hostile case (beside the corpus): `held` when every promise held."""
    CASES[family][name] = held


def lines() -> list[str]:
    out = []
    if CORPUS.get("line"):
        out.append(CORPUS["line"])
    if CASES:
        tried = sum(len(c) for c in CASES.values())
        held = sum(sum(c.values()) for c in CASES.values())
        families = " ; ".join(
            f"{family} {sum(c.values())}/{len(c)}" for family, c in sorted(CASES.items())
        )
        out.append(f"Cas hostiles ajoutés : {tried} essayés, {held} tenus ({families}).")
    if FAULTS["faults injected"]:
        out.append(
            "Injection de fautes : "
            f"{FAULTS['faults injected']} fautes injectées, "
            f"{FAULTS['runs recovered']} reprises complètes, "
            f"{FAULTS['files checked']} vérifications de fichiers, "
            f"fichiers perdus : {FAULTS['lost']}, doublons : {FAULTS['duplicates']}."
        )
    out += [f"Mesure : {name} : {text}." for name, text in sorted(FIGURES.items())]
    return out
