"""The catalogue of issue codes: each code's severity, short French title and French message
(with the variants `catalogue.advice` chooses from a cell's rule). Data: what `issues.make`
words an issue from; the issue-code table of docs/conventions.md is checked against it."""

from __future__ import annotations

from dataclasses import dataclass, field

ERREUR = "erreur"
AVERTISSEMENT = "avertissement"
SEVERITIES = (ERREUR, AVERTISSEMENT)


@dataclass(frozen=True)
class Variant:
    """Another wording of a message, for the cells whose rule makes the usual advice wrong
    (`catalogue.advice` chooses it from the cell's rule)."""

    when: str  # French, for the guide: « pour une valeur obligatoire »
    template: str


@dataclass(frozen=True)
class IssueType:
    severity: str
    title: str  # short French label, used in tables and the docs
    template: str  # French message; {placeholders} filled by `make`
    variants: dict[str, Variant] = field(default_factory=dict)


CATALOGUE: dict[str, IssueType] = {
    # --- the file itself ---------------------------------------------------------------------
    "empty-file": IssueType(
        ERREUR,
        "Fichier vide",
        "Le fichier est vide (0 octet). Enregistrez de nouveau le classeur rempli au format .xlsx "
        "puis déposez-le une nouvelle fois.",
    ),
    "not-a-workbook": IssueType(
        ERREUR,
        "Pas un classeur",
        "Ce fichier n'est pas un classeur tableur ({detail}). Ouvrez le modèle fourni par l'équipe "
        "nationale, remplissez-le et enregistrez-le au format .xlsx (Excel) ou .ods (LibreOffice).",
    ),
    "legacy-xls": IssueType(
        ERREUR,
        "Ancien format .xls",
        "Le fichier est au format Excel 97-2003 (.xls), qui n'est pas accepté. Ouvrez-le puis "
        "« Enregistrer sous » et choisissez « Classeur Excel (.xlsx) » ou le format .ods.",
    ),
    "xlsb-format": IssueType(
        ERREUR,
        "Format .xlsb",
        "Le fichier est un classeur binaire Excel (.xlsb), qui n'est pas accepté. Ouvrez-le puis "
        "« Enregistrer sous » et choisissez « Classeur Excel (.xlsx) ».",
    ),
    "csv-file": IssueType(
        ERREUR,
        "Fichier CSV",
        "Le fichier est un export texte (CSV), qui ne contient qu'une feuille et perd la mise en "
        "forme du modèle. Remplissez le modèle de classeur et enregistrez-le au format .xlsx ou .ods.",
    ),
    "encrypted-file": IssueType(
        ERREUR,
        "Protégé par mot de passe",
        "Le classeur est protégé par un mot de passe à l'ouverture : il ne peut pas être lu. "
        "Retirez le mot de passe (Fichier > Informations > Protéger le classeur) et déposez-le à nouveau.",
    ),
    "corrupt-file": IssueType(
        ERREUR,
        "Fichier endommagé",
        "Le classeur est incomplet ou endommagé ({detail}). Vérifiez qu'il s'ouvre dans votre "
        "tableur, enregistrez-le de nouveau au format .xlsx et déposez-le une nouvelle fois.",
    ),
    "unsafe-archive": IssueType(
        ERREUR,
        "Contenu interdit",
        "Le classeur contient des éléments interdits ({detail}). Recopiez vos données dans un modèle "
        "vierge, enregistrez-le au format .xlsx et déposez-le à nouveau.",
    ),
    "forbidden-xml": IssueType(
        ERREUR,
        "XML interdit",
        "Le classeur contient des déclarations XML interdites (DTD ou entités, {detail}). Recopiez "
        "vos données dans un modèle vierge et déposez-le à nouveau.",
    ),
    "too-large": IssueType(
        ERREUR,
        "Trop volumineux",
        "Le classeur dépasse les limites acceptées ({detail}). Supprimez les lignes, colonnes ou "
        "feuilles inutiles (ou recopiez vos données dans un modèle vierge) et déposez-le à nouveau.",
    ),
    "too-slow": IssueType(
        ERREUR,
        "Lecture trop longue",
        "La lecture du classeur a dépassé {seconds} secondes. Recopiez vos données dans un modèle "
        "vierge (sans mise en forme ni lignes superflues) et déposez-le à nouveau.",
    ),
    "macros-ignored": IssueType(
        AVERTISSEMENT,
        "Macros ignorées",
        "Le classeur contient des macros (.xlsm) : elles ont été ignorées et ne sont jamais exécutées. "
        "Enregistrez plutôt au format .xlsx la prochaine fois.",
    ),
    "external-links-ignored": IssueType(
        AVERTISSEMENT,
        "Liaisons externes ignorées",
        "Le classeur contient des liaisons vers d'autres fichiers : elles sont ignorées et seules les "
        "valeurs enregistrées sont lues. Remplacez les formules liées par des valeurs.",
    ),
    "unknown-template": IssueType(
        ERREUR,
        "Pas le modèle PTCE",
        "Ce classeur n'est pas le modèle de suivi PTCE (feuilles trouvées : {found}). Téléchargez le "
        "modèle auprès de l'équipe nationale et recopiez-y vos données.",
    ),
    "unknown-template-version": IssueType(
        ERREUR,
        "Version de modèle inconnue",
        "Ce classeur a été créé avec une version du modèle que le pipeline ne connaît pas "
        "(version {version}). Recopiez vos données dans le modèle actuel (version {current}), "
        "disponible auprès de l'équipe nationale.",
    ),
    "old-template-version": IssueType(
        AVERTISSEMENT,
        "Ancienne version du modèle",
        "Ce classeur utilise une ancienne version du modèle (version {version}) ; il a été lu avec la "
        "correspondance prévue. Utilisez le modèle actuel (version {current}) pour la prochaine période.",
    ),
    "empty-workbook": IssueType(
        ERREUR,
        "Classeur non rempli",
        "Le classeur ne contient aucune donnée saisie. Remplissez les feuilles Identité, Membres, "
        "Indicateurs et Critères avant de le déposer.",
    ),
    # --- structure ---------------------------------------------------------------------------
    "missing-sheet": IssueType(
        ERREUR,
        "Feuille manquante",
        "La feuille « {expected} » est introuvable (feuilles présentes : {found}). Ne renommez pas et "
        "ne supprimez pas les feuilles du modèle.",
    ),
    "hidden-sheet": IssueType(
        AVERTISSEMENT,
        "Feuille masquée",
        "La feuille « {expected} » est masquée ; elle a été lue quand même. Affichez-la de nouveau "
        "(clic droit sur un onglet > Afficher).",
    ),
    "missing-column": IssueType(
        ERREUR,
        "Colonne manquante",
        "La colonne « {expected} » est introuvable dans l'en-tête de la feuille (ligne {row}). "
        "Ne supprimez pas et ne renommez pas les colonnes du modèle.",
    ),
    "missing-field": IssueType(
        ERREUR,
        "Ligne d'identité manquante",
        "La ligne « {label} » est introuvable dans la feuille Identité. Ne supprimez pas les lignes "
        "du modèle : recopiez vos données dans un modèle vierge.",
    ),
    "missing-indicator": IssueType(
        ERREUR,
        "Indicateur manquant",
        "L'indicateur {code} « {label} » est introuvable. Ne supprimez pas les lignes pré-imprimées "
        "de la feuille Indicateurs : recopiez vos valeurs dans un modèle vierge.",
    ),
    "unknown-indicator": IssueType(
        ERREUR,
        "Indicateur inconnu",
        "Le code d'indicateur « {value} » n'existe pas dans le référentiel. Ne modifiez pas la "
        "colonne Code : les codes valides vont de {first} à {last}.",
    ),
    "duplicate-indicator": IssueType(
        ERREUR,
        "Indicateur en double",
        "L'indicateur {code} apparaît plusieurs fois (aussi en {other}). Gardez une seule ligne "
        "par indicateur.",
    ),
    "missing-criterion": IssueType(
        ERREUR,
        "Critère manquant",
        "Le critère {code} « {label} » est introuvable. Ne supprimez pas les lignes pré-imprimées de "
        "la feuille Critères.",
    ),
    "unknown-criterion": IssueType(
        ERREUR,
        "Critère inconnu",
        "Le code de critère « {value} » n'existe pas dans le référentiel. Ne modifiez pas la colonne Code.",
    ),
    "duplicate-criterion": IssueType(
        ERREUR,
        "Critère en double",
        "Le critère {code} apparaît plusieurs fois (aussi en {other}). Gardez une seule ligne par critère.",
    ),
    "merged-cells": IssueType(
        ERREUR,
        "Cellules fusionnées",
        "Les cellules {range} sont fusionnées dans la zone de saisie : seule la première garde sa "
        "valeur. Annulez la fusion et remplissez chaque cellule.",
    ),
    "data-outside-table": IssueType(
        AVERTISSEMENT,
        "Saisie hors du tableau",
        "Une valeur a été saisie hors de la zone prévue ; elle est ignorée. Déplacez-la dans la "
        "bonne cellule si elle compte.",
    ),
    "too-many-members": IssueType(
        ERREUR,
        "Trop de lignes de membres",
        "La feuille Membres contient plus de {max} lignes remplies ; la lecture s'est arrêtée ici. "
        "Supprimez les lignes recopiées par erreur : une ligne par organisation membre.",
    ),
    # --- cell values -------------------------------------------------------------------------
    "required-value": IssueType(
        ERREUR,
        "Valeur obligatoire",
        "« {label} » est obligatoire et n'est pas rempli. Saisissez une valeur ({hint}).",
    ),
    "not-a-number": IssueType(
        ERREUR,
        "Nombre attendu",
        "« {label} » attend un nombre, la cellule contient « {value} ». Saisissez {expected} "
        "sans texte (par exemple {example}), ou laissez vide si la donnée n'est pas connue.",
        {
            "obligatoire": Variant(
                "pour une valeur obligatoire",
                "« {label} » attend un nombre, la cellule contient « {value} ». Saisissez "
                "{expected} sans texte (par exemple {example}) : la valeur est obligatoire, la "
                "cellule ne peut pas rester vide.",
            )
        },
    ),
    "not-an-integer": IssueType(
        ERREUR,
        "Nombre entier attendu",
        "« {label} » attend un nombre entier, la cellule contient {value}. Saisissez un nombre sans "
        "décimales.",
    ),
    "out-of-range": IssueType(
        ERREUR,
        "Valeur hors bornes",
        "« {label} » vaut {value}, hors des bornes acceptées ({bounds}). Corrigez la valeur ou "
        "vérifiez l'unité ({unit}).",
        {
            "sans-unite": Variant(
                "pour un nombre ou un niveau sans unité",
                "« {label} » vaut {value}, hors des bornes acceptées ({bounds}). Corrigez la "
                "valeur.",
            )
        },
    ),
    "ambiguous-number": IssueType(
        AVERTISSEMENT,
        "Nombre ambigu",
        "« {value} » a été lu comme {read} (le point a été pris pour un séparateur de milliers). "
        "Si c'est un nombre décimal, écrivez-le avec une virgule ({alt}).",
        {
            "entier": Variant(
                "pour un nombre entier (ou quand la lecture décimale serait hors bornes)",
                "« {value} » a été lu comme {read} (le point a été pris pour un séparateur de "
                "milliers). Vérifiez que c'est bien la valeur, et écrivez les milliers sans point "
                "pour lever le doute.",
            )
        },
    ),
    "not-in-list": IssueType(
        ERREUR,
        "Valeur hors liste",
        "« {value} » n'est pas une valeur permise pour « {label} ». Choisissez dans la liste "
        "déroulante : {allowed}.",
    ),
    "invalid-siret": IssueType(
        ERREUR,
        "SIRET invalide",
        "Le SIRET « {value} » n'est pas valide ({detail}). Vérifiez les 14 chiffres sur "
        "annuaire-entreprises.data.gouv.fr.",
    ),
    "duplicate-siret": IssueType(
        ERREUR,
        "SIRET en double",
        "Le SIRET {value} figure déjà en {other}. Un établissement ne doit apparaître qu'une fois : "
        "supprimez la ligne en double.",
    ),
    "invalid-commune": IssueType(
        ERREUR,
        "Code commune invalide",
        "« {value} » n'est pas un code commune INSEE. Saisissez le code officiel géographique à "
        "5 caractères (par exemple 26281 ou 2A004), et non le code postal.",
    ),
    "invalid-departement": IssueType(
        ERREUR,
        "Département invalide",
        "« {value} » n'est pas un code de département. Saisissez le code officiel : 01 à 95, 2A, "
        "2B ou 971 à 976 (par exemple 07, et non 7 ou Ardèche).",
    ),
    "invalid-region": IssueType(
        ERREUR,
        "Région invalide",
        "« {value} » n'est pas une région actuelle (découpage de 2016). Choisissez la région dans "
        "la liste déroulante.",
    ),
    "old-region-name": IssueType(
        AVERTISSEMENT,
        "Ancienne région",
        "« {value} » est une région d'avant 2016 ; elle a été lue comme « {region} ». Choisissez la "
        "région actuelle dans la liste.",
    ),
    "invalid-year": IssueType(
        ERREUR,
        "Année invalide",
        "« {label} » attend une année à 4 chiffres {bounds}, la cellule contient « {value} ». "
        "Saisissez l'année seule, sur 4 chiffres, dans cet intervalle.",
    ),
    "invalid-date": IssueType(
        ERREUR,
        "Date invalide",
        "« {label} » attend une date, la cellule contient « {value} ». Saisissez la date sous la "
        "forme JJ/MM/AAAA, par exemple 15/03/2025.",
    ),
    "invalid-email": IssueType(
        ERREUR,
        "Courriel invalide",
        "« {value} » n'est pas une adresse électronique valide. Corrigez-la sous la forme "
        "nom@domaine.fr (une seule adresse, sans espace).",
    ),
    "invalid-pole-id": IssueType(
        ERREUR,
        "Identifiant de pôle invalide",
        "« {value} » n'est pas un identifiant de pôle. Saisissez l'identifiant attribué par l'équipe "
        "nationale : PTCE- suivi d'au moins trois chiffres (par exemple PTCE-001), comme le nom "
        "de votre dossier de dépôt.",
    ),
    "formula-without-value": IssueType(
        ERREUR,
        "Formule sans valeur",
        "La cellule contient une formule dont la valeur n'a pas été calculée. Ouvrez le classeur dans "
        "votre tableur, enregistrez-le (ou remplacez la formule par sa valeur) et déposez-le à nouveau.",
    ),
    "formula-error": IssueType(
        ERREUR,
        "Erreur de formule",
        "La cellule affiche l'erreur {value}. Corrigez la formule ou saisissez directement la valeur.",
    ),
    "text-too-long": IssueType(
        ERREUR,
        "Texte trop long",
        "Le texte de « {label} » fait {length} caractères (au plus {max}). Raccourcissez-le.",
    ),
    "invisible-characters": IssueType(
        AVERTISSEMENT,
        "Caractères invisibles",
        "Le texte de « {label} » contenait des caractères invisibles ou de contrôle ; ils ont été "
        "supprimés. Vérifiez la valeur retenue : « {value} ».",
    ),
    # --- identity and registry ---------------------------------------------------------------
    "pole-not-registered": IssueType(
        ERREUR,
        "Pôle non inscrit",
        "Le pôle {value} n'est pas inscrit au registre national. Saisissez l'identifiant attribué "
        "par l'équipe nationale (c'est le nom de votre dossier de dépôt) ou demandez-lui de "
        "vous inscrire.",
    ),
    "pole-folder-mismatch": IssueType(
        ERREUR,
        "Dépôt dans le dossier d'un autre pôle",
        "Le classeur porte l'identifiant {value} mais a été déposé dans le dossier de {folder}. "
        "Un pôle ne peut déposer que ses propres données : corrigez l'identifiant ou déposez le "
        "fichier dans le bon dossier.",
    ),
    "period-in-future": IssueType(
        ERREUR,
        "Période future",
        "La période {value} n'est pas encore commencée (nous sommes en {year}). Indiquez l'année "
        "sur laquelle portent les données.",
    ),
    "period-out-of-participation": IssueType(
        ERREUR,
        "Période hors participation",
        "Le pôle {pole} participe au suivi de {first} à {last} : la période {value} est en dehors. "
        "Corrigez l'année saisie ; si elle est juste, signalez-le à l'équipe nationale, qui tient "
        "le registre.",
    ),
    "departement-registry-mismatch": IssueType(
        AVERTISSEMENT,
        "Département différent du registre",
        "Le département {value} diffère de celui inscrit au registre national pour ce pôle "
        "({expected}). Corrigez le département ou, si le siège a changé, signalez-le à l'équipe "
        "nationale.",
    ),
    "creation-after-period": IssueType(
        ERREUR,
        "Création postérieure à la période",
        "Le pôle aurait été créé en {value}, après la période {period} sur laquelle portent les "
        "données. Corrigez l'année de création ou la période.",
    ),
    "implausible-fill-date": IssueType(
        AVERTISSEMENT,
        "Date de remplissage invraisemblable",
        "La date de remplissage {value} est {detail}. Corrigez-la (JJ/MM/AAAA) ou laissez la "
        "cellule vide.",
        {
            "obligatoire": Variant(
                "quand la date de remplissage est obligatoire",
                "La date de remplissage {value} est {detail}. Corrigez-la (JJ/MM/AAAA).",
            )
        },
    ),
    "region-departement-mismatch": IssueType(
        ERREUR,
        "Région incohérente",
        "Le département {departement} appartient à la région « {expected} », pas à « {value} ». "
        "Corrigez la région ou le département.",
    ),
    "commune-departement-mismatch": IssueType(
        ERREUR,
        "Commune hors du département",
        "Le code commune {value} n'est pas dans le département {departement} (il devrait commencer "
        "par {departement}). Vérifiez le code INSEE de la commune.",
    ),
    # --- members -----------------------------------------------------------------------------
    "too-few-legal-persons": IssueType(
        ERREUR,
        "Composition insuffisante",
        "Un PTCE réunit au moins trois personnes morales dont une entreprise de l'ESS et une "
        "entreprise hors ESS (décret n° 2015-431) : {detail}. Complétez la feuille Membres.",
    ),
    "few-members": IssueType(
        AVERTISSEMENT,
        "Moins de 5 membres",
        "Le pôle déclare {count} membres ; le critère de taille du référentiel est de 5 à 10 "
        "organisations au moins. Vérifiez que la liste des membres est complète.",
    ),
    "member-joined-after-period": IssueType(
        AVERTISSEMENT,
        "Adhésion postérieure à la période",
        "Ce membre a adhéré en {value}, après la période {period} : la feuille Membres décrit les "
        "membres de la période. Corrigez l'année d'adhésion ou retirez ce membre.",
    ),
    # --- indicators --------------------------------------------------------------------------
    "jobs-created-above-direct": IssueType(
        ERREUR,
        "Emplois créés > emplois directs",
        "Les emplois nets créés dans l'année ({value} ETP) dépassent les emplois directs au "
        "31 décembre ({other} ETP, cellule {other_cell}) : c'est impossible, une création nette "
        "fait partie des emplois de fin d'année. Corrigez l'une des deux valeurs (même unité : ETP).",
    ),
    "insertion-above-direct": IssueType(
        ERREUR,
        "Emplois en insertion > emplois directs",
        "Les emplois en insertion ({value} ETP) dépassent les emplois directs ({other} ETP, "
        "cellule {other_cell}) : c'est impossible, les emplois en insertion en font partie. "
        "Corrigez l'une des deux valeurs (même unité : ETP au 31 décembre).",
    ),
    "funding-shares-above-100": IssueType(
        AVERTISSEMENT,
        "Parts de financement > 100 %",
        "La part des financements publics ({value} %) et le taux d'autofinancement ({other} %, "
        "cellule {other_cell}) dépassent ensemble 100 % du budget. Vérifiez les deux valeurs : une "
        "même recette ne doit être comptée que dans l'une des deux.",
    ),
    "collectivites-below-members": IssueType(
        AVERTISSEMENT,
        "Collectivités sous-déclarées",
        "L'indicateur déclare {value} collectivités membres ou partenaires, mais la feuille Membres "
        "en liste {other} dans la catégorie « Collectivité territoriale ». Corrigez l'indicateur "
        "ou la catégorie des membres concernés.",
    ),
    "large-change": IssueType(
        AVERTISSEMENT,
        "Évolution à vérifier",
        "« {label} » passe de {previous} en {previous_period} à {value} : une variation de plus de "
        "10 fois. Corrigez la valeur s'il s'agit d'une erreur de saisie (unité, zéros en trop) ; "
        "sinon, expliquez l'évolution dans la colonne « Source ou commentaire ».",
    ),
    # --- criteria ----------------------------------------------------------------------------
    "missing-answer": IssueType(
        ERREUR,
        "Critère sans réponse",
        "Le critère {code} « {label} » n'a pas de réponse. Répondez {allowed}.",
    ),
    "justification-missing": IssueType(
        AVERTISSEMENT,
        "Justification manquante",
        "Le critère {code} est coché « Oui » sans justification. Ajoutez une phrase qui l'étaye.",
    ),
}
