"""The run report: counts, refused files with their first problem, durations; the same French
summary on the terminal, in the Prefect artifact and in `--json`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ptce_pipeline.catalogue import display

STATUS_KEYS = (
    "acceptee",
    "acceptee_avec_avertissements",
    "refusee",
    "retenue",
    "en_attente",
    "en_erreur",
)


@dataclass
class FileLine:
    folder: str
    name: str
    outcome: str
    status: str | None
    submission_id: int | None
    first_problem: str = ""
    other_errors: int = 0  # errors besides the first problem (a refused file)
    receipt: str | None = None
    annotated: str | None = None


@dataclass
class RunReport:
    started: float = field(default_factory=time.time)
    ended: float | None = None
    new: int = 0
    duplicates: int = 0
    unknown_sender: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_KEYS, 0))
    waiting: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)  # outcome `ecartee`, one line each
    not_removed: list[str] = field(default_factory=list)  # decided, but left in the inbox
    files: list[FileLine] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # our own faults
    errors: list[str] = field(default_factory=list)  # the run itself could not finish
    recovered: int = 0  # journal records applied after an interrupted run
    durations: dict[str, float] = field(default_factory=dict)
    nothing_new: bool = False
    snapshot: str | None = None
    # the e-mails sent after the run (issue 20), French lines; never a reason for exit 1: mail
    # that could not go waits for the next run (`ptce remind` is the verb that reports it)
    mail: list[str] = field(default_factory=list)

    def count(self, status: str | None) -> None:
        if status in self.statuses:
            self.statuses[status] += 1

    def time(self, name: str, seconds: float) -> None:
        self.durations[name] = self.durations.get(name, 0.0) + seconds

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.failures
            or self.errors
            or self.set_aside
            or self.not_removed
            or self.statuses.get("en_erreur")
            or self.statuses.get("en_attente")
        )

    def checkpoint(self) -> tuple:
        """The decision counts now (see `rollback`)."""
        return (
            self.new,
            self.duplicates,
            self.unknown_sender,
            dict(self.statuses),
            len(self.files),
        )

    def rollback(self, mark: tuple) -> None:
        """Forget the decisions counted since `mark`: their load failed, nothing was written."""
        self.new, self.duplicates, self.unknown_sender, statuses, n_files = mark
        self.statuses = dict(statuses)
        del self.files[n_files:]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["needs_attention"] = self.needs_attention
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """The report back from `to_dict()` (what a flow run returns to the CLI)."""
        report = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        report.files = [FileLine(**f) if isinstance(f, dict) else f for f in report.files]
        return report

    def summary_lines(self) -> list[str]:
        """The French summary, raw: `terminal_lines` and `markdown` neutralise it."""
        s = self.statuses
        lines = []
        if self.nothing_new and not (
            self.waiting or self.quarantined or self.errors or self.set_aside
        ):
            lines.append("Rien de nouveau dans les boîtes de dépôt : l'entrepôt n'a pas changé.")
            return lines + self.mail
        lines.append(
            f"Fichiers reçus : {self.new + self.duplicates + self.unknown_sender} "
            f"(nouveaux {self.new}, doublons {self.duplicates}, expéditeur inconnu {self.unknown_sender})."
        )
        lines.append(
            f"Décisions : acceptés {s['acceptee']}, avec avertissements {s['acceptee_avec_avertissements']}, "
            f"refusés {s['refusee']}, retenus (campagne close) {s['retenue']}, "
            f"en attente {s['en_attente']}, en erreur {s['en_erreur']}."
        )
        if self.recovered:
            lines.append(
                f"Reprise après interruption : {self.recovered} opération(s) du journal rejouée(s)."
            )
        for f in self.files:
            if f.status == "refusee":
                label = "Déjà reçu, toujours refusé" if f.outcome == "doublon" else "Refusé"
                lines.append(f"  {label} : {f.folder}/{f.name} : {f.first_problem}{_rest(f)}")
        for f in self.files:
            if f.outcome == "expediteur_inconnu":
                lines.append(
                    f"  Expéditeur inconnu (archivé, non chargé) : {f.folder or 'inbox'}/{f.name}"
                )
        for label, items in (
            ("En cours de copie, repris au prochain passage", self.waiting),
            ("Lien symbolique écarté vers warehouse/quarantine/", self.quarantined),
            ("Écarté (mis de côté, non chargé)", self.set_aside),
            ("Traité mais impossible à retirer de la boîte de dépôt", self.not_removed),
            ("Illisible pour l'instant (repris au prochain passage)", self.unreadable),
            ("Incident de notre côté (le fichier sera retraité)", self.failures),
            ("Erreur", self.errors),
        ):
            lines.extend(f"  {label} : {item}" for item in items)
        lines.extend(self.mail)
        total = (self.ended or time.time()) - self.started
        lines.append(f"Durée : {total:.1f} s.")
        return lines

    def terminal_lines(self) -> list[str]:
        """The summary for a terminal: one safe line each, whatever the file names hold."""
        return [display.terminal(line) for line in self.summary_lines()]

    def markdown(self) -> str:
        s = self.statuses
        rows = [
            ("Nouveaux", self.new),
            ("Doublons", self.duplicates),
            ("Acceptés", s["acceptee"]),
            ("Avec avertissements", s["acceptee_avec_avertissements"]),
            ("Refusés", s["refusee"]),
            ("Retenus (campagne close)", s["retenue"]),
            ("Expéditeur inconnu", self.unknown_sender),
            ("En attente", s["en_attente"]),
            ("En erreur", s["en_erreur"]),
        ]
        out = ["# Rapport d'ingestion", ""]
        # the same French summary as the terminal, line for line
        out += [f"- {_md(line.strip(), 600)}" for line in self.summary_lines()]
        out += ["", "## Comptes", "", "| | Fichiers |", "|---|---:|"]
        out += [f"| {k} | {v} |" for k, v in rows]
        refused = [f for f in self.files if f.status == "refusee"]
        if refused:
            out += [
                "",
                "## Fichiers refusés",
                "",
                "| Pôle | Fichier | Premier problème | Autres erreurs |",
                "|---|---|---|---:|",
            ]
            out += [
                f"| {_md(f.folder)} | {display.code(f.name, table=True)} | "
                f"{_md(f.first_problem)} | {f.other_errors} |"
                for f in refused
            ]
        unknown = [f for f in self.files if f.outcome == "expediteur_inconnu"]
        if unknown:
            out += ["", "## Expéditeur inconnu", ""] + [
                f"- {_md(f.folder or 'inbox')}/{display.code(f.name)}" for f in unknown
            ]
        if self.failures or self.errors:
            out += ["", "## Incidents", ""] + [f"- {_md(x)}" for x in self.failures + self.errors]
        if self.durations:
            out += ["", "## Durées", "", "| Étape | s |", "|---|---:|"]
            out += [f"| {k} | {v:.2f} |" for k, v in self.durations.items()]
        return "\n".join(out)


def others(n: int) -> str:
    """« et 1 autre erreur », « et 4 autres erreurs »; "" for none."""
    return "" if n <= 0 else f"et {n} autre{'s' if n > 1 else ''} erreur{'s' if n > 1 else ''}"


def _rest(f: FileLine) -> str:
    """After a refused file's first problem: how many others, and where to read them all."""
    if f.annotated:
        label, path = "copie annotée", f.annotated
    elif f.receipt:
        label, path = "accusé", f.receipt
    else:
        label, path = "", ""
    if not f.other_errors:
        return f" — {label} : {path}" if path else ""
    article = "la " if label == "copie annotée" else "l'"
    return f" — {others(f.other_errors)}" + (f" : voir {article}{label} {path}" if path else "")


def _md(text: str, limit: int = 200) -> str:
    """Text from a file as inert Markdown (see `catalogue.display`)."""
    return display.markdown(text, limit)
