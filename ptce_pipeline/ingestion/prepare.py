"""`ptce campaign prepare` and `ptce template --prefill`: the workbook each pole fills for a
new period, pre-filled from its declaration in force for the latest earlier period.

The earlier declarations are read from the live warehouse (the contact, personal data, is
only there), under the warehouse lock: a run holding it makes these verbs stop at once (exit
3). Preparing a campaign writes its row in `campagnes.csv` when it has none, then, for each
pole expected in the period, `modele_<période>.xlsx` and `modele_<période>_a_lire.txt` in its
`retours/` (`feedback.write_prepared`), where its portal space finds them (`/modele`). The same
warehouse state and configuration give byte-identical workbooks."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline import fsafe
from ptce_pipeline.catalogue import Config, Pole, load_config
from ptce_pipeline.catalogue.registry import CAMPAIGNS_HEADER
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.feedback import PREPARED_WORKBOOK, write_prepared
from ptce_pipeline.store.configs import archive_current
from ptce_pipeline.store.lock import warehouse_lock
from ptce_pipeline.store.prefill import Declaration, declarations_before
from ptce_pipeline.store.warehouse import connect
from ptce_pipeline.template.prefill import prefilled_template, prepared_note
from ptce_pipeline.xlsx_writer import workbook_bytes


@dataclass(frozen=True)
class PreparedPole:
    pole_id: str
    earlier_period: int | None  # None: no earlier declaration, the plain template
    workbook: Path | None = None
    problem: str | None = None  # why nothing was written (the pole's folder is a link…)


@dataclass
class Preparation:
    period: int
    deadline: dt.date
    campaign_added: bool
    poles: list[PreparedPole] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """The French summary the CLI prints."""
        out = [
            f"Campagne {self.period} ajoutée à campagnes.csv (date limite "
            f"{self.deadline.strftime('%d/%m/%Y')})."
            if self.campaign_added
            else f"Campagne {self.period} : date limite {self.deadline.strftime('%d/%m/%Y')} "
            "(campagnes.csv)."
        ]
        done = [p for p in self.poles if p.problem is None]
        prefilled = sum(1 for p in done if p.earlier_period is not None)
        out.append(
            f"Classeurs préparés : {len(done)} sur {len(self.poles)} pôles attendus "
            f"(pré-remplis {prefilled}, modèle vierge {len(done) - prefilled}), "
            f"dans inbox/<pôle>/retours/{PREPARED_WORKBOOK.format(period=self.period)}."
        )
        for p in self.poles:
            if p.problem is not None:
                out.append(f"  Non écrit : {p.pole_id} : {p.problem}")
            elif p.earlier_period is None:
                out.append(f"  {p.pole_id} : aucune déclaration antérieure, modèle vierge")
            else:
                out.append(f"  {p.pole_id} : pré-rempli depuis la déclaration {p.earlier_period}")
        return out

    @property
    def needs_attention(self) -> bool:
        return any(p.problem is not None for p in self.poles)


def _earlier(settings: Settings, poles: list[Pole], period: int) -> dict[str, Declaration]:
    """pole id → its earlier declaration, from the live warehouse (the caller holds the lock)."""
    if not settings.live_db.exists() or not poles:
        return {}
    con = connect(settings.live_db, read_only=True)
    try:
        found = declarations_before(con, {(p.pole_id, period) for p in poles})
    finally:
        con.close()
    return {pole: decl for (pole, _), decl in found.items()}


def prefilled_bytes(cfg: Config, pole: Pole, period: int, earlier: Declaration | None) -> bytes:
    wb = prefilled_template(
        cfg.ref,
        pole=pole,
        period=period,
        earlier=earlier,
        deadline=cfg.campaigns.deadline(period),
        contact=cfg.contact,
    )
    return workbook_bytes(wb)


def prefilled_workbook(
    settings: Settings, pole_id: str, period: int
) -> tuple[bytes, Declaration | None]:
    """`ptce template --prefill`: the pole's workbook for `period` and the declaration it was
    pre-filled from (None: the plain template)."""
    with warehouse_lock(settings.lock_path, what="ptce template --prefill", now=settings.clock()):
        cfg = load_config(settings)
        pole = cfg.registry.poles.get(pole_id)
        if pole is None:
            raise ConfigError(f"Le pôle {pole_id} n'est pas inscrit dans {settings.registry_path}.")
        earlier = _earlier(settings, [pole], period).get(pole_id)
        return prefilled_bytes(cfg, pole, period, earlier), earlier


def _add_campaign(path: Path, period: int, deadline: dt.date) -> None:
    """Append the period's row to campagnes.csv (created with its header when missing), in
    the file's own format; written under a temporary name, then renamed into place."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = (",".join(CAMPAIGNS_HEADER) + "\n").encode("utf-8")
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if data and not data.endswith((b"\n", b"\r")):
        data += newline
    data += f"{period},{deadline.isoformat()}".encode() + newline
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def prepare_campaign(
    settings: Settings, period: int, deadline: dt.date | None = None
) -> Preparation:
    """Prepare the campaign of `period`: its row in campagnes.csv if missing (`deadline`, else
    31 March of the following year), and the workbook of every pole expected in it."""
    with warehouse_lock(settings.lock_path, what="ptce campaign prepare", now=settings.clock()):
        cfg = load_config(settings)
        known = cfg.campaigns.deadlines.get(period)
        added = known is None
        if known is not None and deadline is not None and deadline != known:
            raise ConfigError(
                f"{settings.campaigns_path} : la période {period} a déjà la date limite "
                f"{known.isoformat()} ; modifiez la ligne du fichier pour la changer."
            )
        if added:
            _add_campaign(
                settings.campaigns_path, period, deadline or cfg.campaigns.deadline(period)
            )
            cfg = load_config(settings)
            if settings.live_db.exists():  # an installed home: archive the new file by hash
                archive_current(settings, cfg)
        poles = cfg.registry.expected(period)
        earlier = _earlier(settings, poles, period)
        result = Preparation(period, cfg.campaigns.deadline(period), added)
        settings.inbox.mkdir(parents=True, exist_ok=True)  # the inbox itself is ours
        for pole in poles:
            found = earlier.get(pole.pole_id)
            data = prefilled_bytes(cfg, pole, period, found)
            note = prepared_note(
                cfg.ref,
                pole=pole,
                period=period,
                deadline=result.deadline,
                earlier=found,
                workbook_name=PREPARED_WORKBOOK.format(period=period),
            )
            try:
                paths = write_prepared(settings.pole_inbox(pole.pole_id), period, data, note)
            except (fsafe.UnsafePath, OSError) as exc:
                problem = str(exc) if isinstance(exc, fsafe.UnsafePath) else exc.strerror
                result.poles.append(
                    PreparedPole(pole.pole_id, found.period if found else None, None, problem)
                )
                continue
            result.poles.append(
                PreparedPole(pole.pole_id, found.period if found else None, paths["workbook"])
            )
        return result
