"""The national team's review of accepted declarations (issue 19): sign off (`validee`) or send
back to the pole with a comment (`a_corriger`). Each decision is journaled (who, when, why) and
applied through the ledger under the warehouse lock, like every correction, so `ptce rebuild`
reproduces it; it changes the period's data version (the public release rests on signed-off
declarations). After the commit, the pole gets a notice in its `retours/`."""

from __future__ import annotations

import unicodedata
from typing import Any

from ptce_pipeline import fsafe
from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.catalogue.contact import Contact
from ptce_pipeline.catalogue.context import Config
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError, NotFound
from ptce_pipeline.feedback.retours import write_notice
from ptce_pipeline.feedback.review_notice import notice_html
from ptce_pipeline.ingestion.corrections import CorrectionResult, apply_correction
from ptce_pipeline.ingestion.unit import UnitOfWork
from ptce_pipeline.store.records import ACCEPTED, SENT_BACK, SIGNED_OFF, as_datetime_or_none

MAX_COMMENT = 4000  # characters of a reviewer's comment to the pole


def clean_comment(comment: str | None, *, required: bool) -> str | None:
    """The reviewer's comment as it will be journaled and quoted to the pole: control
    characters out (line breaks kept), trimmed; required to send back."""
    text = "".join(
        c for c in (comment or "") if c in "\n\t" or unicodedata.category(c)[0] != "C"
    ).strip()
    if required and not text:
        raise ConfigError(
            "Un commentaire est obligatoire pour renvoyer une déclaration au pôle : "
            "--comment « ce qu'il faut corriger, et où »."
        )
    if len(text) > MAX_COMMENT:
        raise ConfigError(
            f"Commentaire trop long ({len(text)} caractères, au plus {MAX_COMMENT}) : "
            "résumez-le, le pôle le lit dans son avis."
        )
    return text or None


def _unique(sids: list[int]) -> list[int]:
    return list(dict.fromkeys(int(s) for s in sids))


def _problem(unit: UnitOfWork, sid: int) -> str | None:
    """Why `sid` cannot be reviewed (French), or None."""
    ledger = unit.ledger
    sub = ledger.subs.get(sid)
    if sub is None:
        return f"aucun dépôt n° {sid} dans l'entrepôt (voir `ptce review list`)"
    status = sub["status"]
    if status in ACCEPTED:
        return None
    if status == "remplacee":
        current = ledger.current.get((sub["pole_id"], sub["period"]))
        instead = f" : relisez le dépôt n° {current}, en vigueur" if current else ""
        return f"le dépôt n° {sid} n'est plus la version en vigueur{instead}"
    if status == "retenue":
        return (
            f"le dépôt n° {sid} est retenu (campagne {sub['period']} close) : rouvrez la "
            "campagne (`ptce campaign reopen`) pour l'appliquer, puis relisez-le"
        )
    return (
        f"le dépôt n° {sid} est « {vocabulary.label(status)} » : seule une déclaration "
        "acceptée, en vigueur, se relit"
    )


def decide(
    settings: Settings,
    sids: list[int],
    decision: str,
    *,
    comment: str | None,
    by: str,
    now=None,
) -> CorrectionResult:
    """Sign off (`validee`) or send back (`a_corriger`, comment required) every submission of
    `sids`, all or none: one that cannot be reviewed stops the call before anything changes."""
    if decision not in (SIGNED_OFF, SENT_BACK):
        raise ConfigError(f"Décision inconnue : {decision}.")
    comment = clean_comment(comment, required=decision == SENT_BACK)
    targets = _unique(sids)
    decided: list[dict[str, Any]] = []
    used: list[Config] = []  # the configuration the unit of work loaded (names, contact)

    def body(unit: UnitOfWork, result: CorrectionResult) -> None:
        ledger = unit.ledger
        used.append(unit.cfg)
        problems = [p for p in (_problem(unit, sid) for sid in targets) if p]
        if problems:
            raise NotFound("Aucune décision enregistrée : " + " ; ".join(problems) + ".")
        for sid in targets:
            sub = ledger.subs[sid]
            what = f"Dépôt n° {sid} ({sub['pole_id']}, {sub['period']}, « {sub['original_name']} »)"
            before = sub.get("review_state")
            if before == decision and (comment is None or comment == sub.get("review_comment")):
                result.lines.append(f"{what} : déjà {vocabulary.label(decision)}, rien à changer.")
                continue
            seq = unit.journal.next_seq()
            unit.journal.add(
                {
                    "type": "review",
                    "submission": sid,
                    "decision": decision,
                    "comment": comment,
                    "by": by,
                    "at": unit.at.isoformat(),
                }
            )
            ledger.review(seq, sid, decision, comment, by, unit.at)
            result.changed = True
            decided.append(dict(sub))
            result.lines.append(
                f"{what} : {vocabulary.label(before)} → {vocabulary.label(decision)}."
            )

    result = apply_correction(settings, body, now)
    if decided:
        _notify(settings, used[0], decided, result)
        result.lines.append(
            "Les chiffres publiés de la période changent : ils seront republiés au prochain "
            "passage (`ptce publish`)."
        )
    return result


def _notify(
    settings: Settings, cfg: Config, subs: list[dict[str, Any]], result: CorrectionResult
) -> None:
    """Write each decision's notice into the pole's `retours/` (after the commit: a notice that
    cannot be written is reported, the decision stands and the pole's page shows it)."""
    contact = cfg.contact or Contact(organisation=cfg.ref.contact)
    for sub in subs:
        folder = sub["inbox_folder"]
        pole = cfg.registry.poles.get(sub["pole_id"])
        at = as_datetime_or_none(sub["reviewed_at"])
        page = notice_html(
            decision=sub["review_state"],
            pole_id=sub["pole_id"],
            pole_name=pole.nom if pole else None,
            period=sub["period"],
            original_name=sub["original_name"],
            submission_id=sub["submission_id"],
            received_at=as_datetime_or_none(sub["received_at"]),
            decided_at=at,
            comment=sub["review_comment"],
            contact=contact,
        )
        try:
            path = write_notice(
                settings.inbox / folder, sub["original_name"], at, sub["submission_id"], page
            )
        except (OSError, fsafe.UnsafePath) as exc:
            result.attention = True
            result.lines.append(
                f"Avis au pôle {folder} non écrit pour le dépôt n° {sub['submission_id']} : "
                f"{exc} ; la décision est enregistrée et visible sur son espace."
            )
            continue
        result.lines.append(f"Avis au pôle : {path.relative_to(settings.home)}.")
