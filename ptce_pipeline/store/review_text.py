"""The reviewer's view in French, for the terminal (`ptce review show`): the submission, what
changed since the pole's previous submission for the period and since its previous period
(each change naming its cell, before → after), its warnings with the pole's comment, and its
history. Text from a pole's file is neutralised for the terminal. `view` is a
`store.review_view.ReviewView` (not imported: that module imports this one)."""

from __future__ import annotations

from typing import Any

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.catalogue.display import terminal as neutral

ACTIONS = {  # the audit's actions, as the history names them
    "withdraw": "retrait par l'équipe nationale",
    "reprocess": "nouvelle validation par l'équipe nationale",
    "reinstate": "remise en vigueur",
    "campaign_close": "clôture de la campagne",
    "campaign_reopen": "réouverture de la campagne",
    "review": "relecture",
    "review_migration": "validée par la mise à jour de l'entrepôt",
}
FIELDS = {"answer": "réponse", "justification": "justification"}  # a criterion's
MEMBER_FIELDS = {  # a member's columns, short (the référentiel's labels are the sheet's headers)
    "nom": "nom",
    "siret": "SIRET",
    "categorie": "catégorie",
    "forme_juridique": "forme juridique",
    "commune": "commune",
    "annee_adhesion": "année d'adhésion",
    "etp": "ETP",
}


def when(moment) -> str:
    return vocabulary.short_datetime(moment, sep=" ")


def quoted(text: Any) -> str:
    return "(vide)" if text is None else f"« {neutral(str(text))} »"


def where(c: dict[str, Any]) -> str:
    if c["sheet"] and c["cell"]:
        return f"{neutral(c['sheet'])}!{c['cell']}"
    return neutral(c["sheet"] or "?")


def change_line(c: dict[str, Any]) -> str:
    """One change: « Indicateurs!F12 — IND05 Chiffre d'affaires : 1 200 → 1 500 »."""
    place = where(c)
    if c["change"] == "removed" and c["kind"] == "member" and c["field"] is None:
        place += f" (dépôt n° {c['against_id']})"
    label = neutral(c["label"] or c["key"] or "")
    if c["kind"] == "value":
        what = f"{c['key']} {label}"
    elif c["kind"] == "member":
        if c["field"] is None:
            verb = "ajouté" if c["change"] == "added" else "retiré"
            return f"{place} — membre {verb} : {quoted(c['after'] or c['before'])}"
        what = f"membre « {label} », {MEMBER_FIELDS.get(c['field'], c['field'])}"
    elif c["kind"] == "criterion":
        what = f"critère {c['key']} {label}, {FIELDS.get(c['field'], c['field'])}"
    else:
        what = label
    return f"{place} — {what} : {quoted(c['before'])} → {quoted(c['after'])}"


def view_lines(view) -> list[str]:
    f = view.facts
    out = [
        f"Dépôt n° {f['submission_id']} — {f['pole_id']} {neutral(f.get('pole_name') or '')} — "
        f"période {f['period'] if f['period'] is not None else 'inconnue'} — "
        f"{quoted(f['original_name'])}",
        f"Statut : {vocabulary.label(f['status'])} ; relecture : "
        f"{vocabulary.label(f['review_state'])}",
        f"Reçu le {when(f['received_at'])}{' (en retard)' if f.get('late') else ''} ; "
        f"gabarit {f.get('template_version') or '?'}, référentiel "
        f"{f.get('referentiel_version') or '?'}",
        f"Contenu : {f['n_indicators']} indicateur(s) renseigné(s), {f['n_members']} membre(s), "
        f"{f['n_criteria']} critère(s) répondu(s) ; {f['n_errors']} erreur(s), "
        f"{f['n_warnings']} avertissement(s)",
    ]
    if f.get("review_state") in ("validee", "a_corriger") and f.get("reviewed_by"):
        out.append(
            f"Décision de relecture le {when(f['reviewed_at'])} par {neutral(f['reviewed_by'])}"
        )
    if f.get("review_comment"):
        out.append(f"Commentaire au pôle : {quoted(f['review_comment'])}")
    out += _changes(view)
    out += _warnings(view)
    out += _history(view)
    return out


def _changes(view) -> list[str]:
    out: list[str] = []
    if view.facts.get("accepted_status") is None:
        return [
            "",
            "Changements : ce dépôt n'a pas été accepté, ses données ne sont pas dans "
            "l'entrepôt ; rien à comparer.",
        ]
    same = view.compared.get("submission")
    out.append("")
    if same is None:
        out.append(
            "Changements depuis le dépôt précédent (même période) : aucun autre dépôt accepté "
            "de ce pôle pour cette période, rien à comparer."
        )
    else:
        out.append(f"Changements depuis le dépôt n° {same['submission_id']} (même période) :")
        out += _listed(view, "submission")
    before = view.compared.get("period")
    out.append("")
    period = view.facts.get("period")
    if before is None:
        previous = period - 1 if period is not None else "?"
        out.append(
            f"Changements depuis {previous} (période précédente) : aucune déclaration en "
            "vigueur pour cette période, rien à comparer."
        )
    else:
        out.append(
            f"Changements depuis {before['period']} (période précédente) — dépôt n° "
            f"{before['submission_id']} :"
        )
        recorded = view.facts.get("previous_submission_id")
        if recorded is not None and recorded != before["submission_id"]:
            out.append(
                f"  (Les avertissements de ce dépôt ont été calculés par rapport au dépôt n° "
                f"{recorded}, en vigueur lors de sa validation.)"
            )
        out += _listed(view, "period")
    return out


def _listed(view, against: str) -> list[str]:
    changes = [c for c in view.changes if c["against"] == against]
    if not changes:
        return ["  Aucun changement."]
    return [f"  {change_line(c)}" for c in changes]


def _warnings(view) -> list[str]:
    out = ["", f"Avertissements ({len(view.warnings)}) :"]
    if not view.warnings:
        out.append("  Aucun.")
    for w in view.warnings:
        place = f"{neutral(w['sheet'])}!{w['cell']}" if w.get("sheet") else "classeur"
        out.append(f"  {place} [{w['code']}] {neutral(w['message'])}")
        if w.get("pole_comment"):
            out.append(f"      Commentaire du pôle : {quoted(w['pole_comment'])}")
        elif w.get("indicator"):
            out.append("      Commentaire du pôle : aucun")
    return out


def _history(view) -> list[str]:
    out = ["", "Historique :"]
    for h in view.history:
        sid = h["submission_id"]
        mark = " (ce dépôt)" if h.get("current") else ""
        if h["action"] == "delivery":
            line = (
                f"  {when(h['done_at'])} — fichier {quoted(h['original_name'])} reçu, n° {sid}"
                f"{mark} : {vocabulary.label(h['outcome'])} ; aujourd'hui "
                f"{vocabulary.label(h['status'])}"
            )
            if h.get("notice"):
                line += f" ; accusé de réception {h['notice']}"
        else:
            line = f"  {when(h['done_at'])} — {ACTIONS.get(h['action'], h['action'])}"
            if sid is not None:
                line += f" du n° {sid}{mark}"
            details = h.get("details") or {}
            if h["action"] == "review" and "after" in details:
                line += (
                    f" : {vocabulary.label(details.get('before'))} → "
                    f"{vocabulary.label(details['after'])}"
                )
            line += f", par {neutral(h['by_user'])}"
            if h.get("reason"):
                line += f" — {quoted(h['reason'])}"
            if h["action"] == "review":
                line += " ; avis au pôle dans ses retours"
        out.append(line)
    return out
