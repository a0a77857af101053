"""The pre-filled workbook of a pole for a new period: the template of the current version,
with the pole's earlier declaration (`store.prefill.Declaration`, as the warehouse stores it,
whatever template version it was made with) typed back in — identity (contact included; the
new period, and the fill date left to the pole), members, criteria answers and justifications —
the indicator values left empty, and the earlier values shown in the locked « Valeur AAAA »
column. Without an earlier declaration: the plain template.

Values go back as a pole types them: labels of the code lists (« Association », « Oui »), the
région's name, whole years; so reading the workbook gives back the stored codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl import Workbook

from ptce_pipeline.catalogue import Contact, Pole, Referentiel
from ptce_pipeline.store.prefill import Declaration
from ptce_pipeline.template.build import Reference, build_template
from ptce_pipeline.template.fill import FilledData, fill_workbook

# Identity fields a new period never takes from the earlier one.
NOT_CARRIED = frozenset({"periode", "date_remplissage"})
ANSWERS = "reponses_criteres"


def _typed(ref: Referentiel, kind: str, liste: str | None, value: Any) -> Any:
    """A stored value as the pole would type it in the cell."""
    if value is None:
        return None
    if liste:
        return ref.lists[liste].label_of(value) or value
    if kind == "region":
        return ref.geography.regions.get(value, value)
    if kind in ("year", "count") and isinstance(value, str) and value.isdigit():
        return int(value)
    if kind in ("year", "count") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def declaration_data(ref: Referentiel, earlier: Declaration) -> FilledData:
    """What the pre-filled workbook holds of the earlier declaration (no indicator value)."""
    identity = {
        f.key: _typed(ref, f.kind, f.liste, earlier.identity[f.key])
        for f in ref.identity
        if f.key in earlier.identity and f.key not in NOT_CARRIED
    }
    members = [
        {
            f.key: _typed(ref, f.kind, f.liste, member.get(f.key))
            for f in ref.members
            if member.get(f.key) is not None
        }
        for member in earlier.members
    ]
    answers = ref.lists.get(ANSWERS)
    criteria = {
        code: ((answers.label_of(answer) or answer) if answers and answer else answer, why)
        for code, (answer, why) in earlier.criteria.items()
        if code in ref.criterion_by_code
    }
    return FilledData(identity=identity, members=members, criteria=criteria)


def prefilled_template(
    ref: Referentiel,
    *,
    pole: Pole,
    period: int,
    earlier: Declaration | None,
    deadline: dt.date | None = None,
    contact: Contact | None = None,
) -> Workbook:
    """The workbook `pole` fills for `period`, pre-filled from `earlier` (None: the plain
    template)."""
    if earlier is None:
        return build_template(ref, pole=pole, period=period, deadline=deadline, contact=contact)
    reference = Reference(
        earlier.period,
        {code: v for code, v in earlier.indicators.items() if code in ref.indicator_by_code},
    )
    wb = build_template(
        ref, pole=pole, period=period, deadline=deadline, contact=contact, reference=reference
    )
    return fill_workbook(wb, ref, declaration_data(ref, earlier))


def prepared_note(
    ref: Referentiel,
    *,
    pole: Pole,
    period: int,
    deadline: dt.date,
    earlier: Declaration | None,
    workbook_name: str,
) -> str:
    """The short French note beside a prepared workbook: what is pre-filled, what to check."""
    head = [
        f"Campagne {period} — {pole.nom} ({pole.pole_id})",
        "",
        f"Le classeur « {workbook_name} » est celui à remplir pour la période {period}, "
        f"à déposer au plus tard le {deadline.strftime('%d/%m/%Y')} dans votre dossier de dépôt "
        "ou sur votre espace du portail.",
        "",
    ]
    if earlier is None:
        body = [
            "Aucune déclaration antérieure de votre pôle n'est enregistrée : c'est le modèle "
            "vierge, avec l'identité inscrite au registre (identifiant, nom, département, "
            "région) et la période. Tout le reste est à saisir.",
        ]
    else:
        p = earlier.period
        body = [
            f"Ce qui est pré-rempli, repris de votre déclaration {p} en vigueur :",
            "- l'identité du pôle et de sa structure porteuse, contact compris ;",
            f"- les membres ({len(earlier.members)}) : nom, SIRET, catégorie, forme juridique, "
            "commune, année d'adhésion, ETP ;",
            f"- les réponses aux {len(ref.criteria)} critères et leurs justifications.",
            "",
            "Ce qui est à saisir :",
            f"- les {len(ref.indicators)} indicateurs de {period}, dans la colonne « Valeur » ; "
            f"la colonne grisée « Valeur {p} » rappelle la valeur déclarée pour {p}, elle est "
            "verrouillée et n'est jamais lue au dépôt ;",
            "- la date de remplissage (feuille « Identité »).",
            "",
            "Ce qu'il faut vérifier avant de déposer :",
            "- les membres partis ou arrivés depuis, les ETP et les catégories ;",
            "- le contact (nom et courriel) et la structure porteuse ;",
            "- les réponses aux critères qui ont changé, et leurs justifications.",
            "",
            f"Une valeur plus de dix fois supérieure ou inférieure à celle de {p} reçoit "
            "l'avertissement « Évolution à vérifier » : corrigez-la s'il s'agit d'une erreur de "
            "saisie, sinon expliquez l'évolution dans la colonne « Source ou commentaire ».",
        ]
    return "\n".join([*head, *body, ""])
