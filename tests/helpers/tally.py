"""Tallies the suite prints at its end (pytest_terminal_summary in conftest): the hostile
corpus line and the fault-injection line. Tests record into them; each test asserts its own
promises, so the summary only reports."""

from __future__ import annotations

import collections

FAULTS: collections.Counter = collections.Counter()
CORPUS: dict[str, str] = {}  # the corpus summary line, once the corpus ran


def lines() -> list[str]:
    out = []
    if CORPUS.get("line"):
        out.append(CORPUS["line"])
    if FAULTS["faults injected"]:
        out.append(
            "Injection de fautes : "
            f"{FAULTS['faults injected']} fautes injectées, "
            f"{FAULTS['runs recovered']} reprises complètes, "
            f"{FAULTS['files checked']} vérifications de fichiers, "
            f"fichiers perdus : {FAULTS['lost']}, doublons : {FAULTS['duplicates']}."
        )
    return out
