"""The « Lisez-moi » sheet of the template: what to fill in, how values are checked, what
happens after the deposit, the deadline, the contact and the versions.
"""

from __future__ import annotations

import datetime as dt

from openpyxl.styles import Alignment, Font

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import Contact, Pole, Referentiel
from ptce_pipeline.template.styles import GROUP_FONT, TITLE_FONT, fit_row, print_setup


def write_readme(
    ws,
    ref: Referentiel,
    pole: Pole | None,
    period: int | None,
    deadline: dt.date | None,
    contact: Contact | None = None,
    prefilled_from: int | None = None,
) -> None:
    ws.column_dimensions["A"].width = 76
    contact = contact or Contact(organisation=ref.contact)
    year = period or "de l'année écoulée"
    lines: list[tuple[str, Font | None]] = [
        ("Suivi des pôles territoriaux de coopération économique (PTCE)", TITLE_FONT),
        (f"Classeur de suivi annuel — période {year}", Font(bold=True, size=12)),
        ("", None),
        ("Ce qu'il faut remplir", GROUP_FONT),
        (
            "1. Identité : les informations sur le pôle et sa structure porteuse (colonne « Valeur »).",
            None,
        ),
        (
            "2. Membres : une ligne par organisation membre (nom, SIRET, catégorie, forme juridique, commune, "
            "année d'adhésion, ETP). Au moins trois personnes morales, dont une entreprise de l'ESS et une "
            "entreprise hors ESS.",
            None,
        ),
        (
            f"3. Indicateurs : les {len(ref.indicators)} indicateurs du référentiel sont pré-imprimés ; saisissez la "
            "valeur de chacun dans la colonne « Valeur » et, si besoin, sa source ou un commentaire.",
            None,
        ),
        (
            f"4. Critères : répondez Oui, Non ou En partie aux {len(ref.criteria)} critères de labellisation et "
            "justifiez chaque réponse en une phrase.",
            None,
        ),
        (
            "Les cellules à remplir sont sur fond jaune pâle ; les autres sont protégées (sans mot de passe) "
            "pour éviter les modifications involontaires. Ne renommez pas les feuilles, ne supprimez pas les "
            "lignes pré-imprimées et ne modifiez pas les codes.",
            None,
        ),
        ("", None),
        ("Comment les valeurs sont contrôlées", GROUP_FONT),
        (
            "Les nombres peuvent être saisis avec une virgule décimale (12,5) et des espaces entre les milliers "
            "(1 250 000). Les pourcentages se saisissent de 0 à 100. Tous les indicateurs sont obligatoires sauf "
            "ceux marqués « (facultatif) » : saisissez 0 si la réponse est « aucun » ; seul un indicateur "
            "facultatif peut rester vide ou être noté « NC » (non connu).",
            None,
        ),
        (
            "Chaque valeur est vérifiée : type, bornes, listes, cohérence entre indicateurs, SIRET, codes INSEE. "
            "Une erreur empêche l'intégration du classeur ; un avertissement ne l'empêche pas mais mérite "
            "une vérification.",
            None,
        ),
        ("", None),
        ("Après le dépôt", GROUP_FONT),
        (
            "Déposez le classeur (.xlsx ou .ods) dans le dossier de votre pôle. Un accusé de réception et, "
            "s'il y a des anomalies, une copie annotée de votre classeur (cellules en rouge ou orange, "
            "feuille « Anomalies ») sont déposés dans le sous-dossier « retours ». Corrigez cette copie "
            "et déposez-la de nouveau : le dernier classeur accepté remplace le précédent.",
            None,
        ),
        ("", None),
        ("Date limite", GROUP_FONT),
        (
            f"À déposer au plus tard le {deadline.strftime('%d/%m/%Y')}."
            if deadline
            else "À déposer au plus tard le 31 mars de l'année qui suit la période.",
            None,
        ),
        ("", None),
        ("Contact", GROUP_FONT),
        (f"Pour toute question : {contact.who}.", None),
        *((f"{label} : {value}", None) for _, label, value in contact.details()),
        ("", None),
        ("Versions", GROUP_FONT),
        (
            f"Modèle de classeur : version {TEMPLATE_VERSION}. Référentiel : {ref.version} "
            f"(empreinte {ref.short_sha}).",
            None,
        ),
    ]
    if prefilled_from is not None:
        lines[3:3] = [
            ("Classeur pré-rempli", GROUP_FONT),
            (
                f"Ce classeur reprend votre déclaration {prefilled_from} : l'identité (contact "
                "compris), les membres, les réponses aux critères et leurs justifications. "
                "Vérifiez-les et corrigez ce qui a changé (membres partis ou arrivés, ETP, "
                "contact) ; saisissez la date de remplissage.",
                None,
            ),
            (
                f"Les indicateurs sont à saisir pour la période {year} : la colonne grisée "
                f"« Valeur {prefilled_from} » rappelle la valeur déclarée pour {prefilled_from}. "
                "Elle est verrouillée et n'est jamais lue au dépôt : seule la colonne « Valeur » "
                "compte.",
                None,
            ),
            ("", None),
        ]
    if ref.provisional:
        lines.append((ref.note or "Référentiel provisoire.", Font(italic=True, color="C00000")))
    if pole is not None:
        lines.insert(2, (f"Pôle : {pole.nom} ({pole.pole_id})", Font(bold=True)))
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font:
            cell.font = font
        fit_row(ws, row, (text, 68 if font is None or not font.sz or font.sz <= 11 else 56))
    ws.protection.sheet = True
    print_setup(ws, landscape=False)
