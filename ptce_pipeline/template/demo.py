"""`ptce demo`: the registry of the 18 poles of the 2012 experimentation, two campaigns of
filled workbooks written through the same template writer the poles get (plausible French
data, valid SIRET check digits, real département and commune codes, a few of the mistakes
poles really make), dropped in the poles' folders. Byte-identical for a given seed."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from stdnum import luhn

from ptce_pipeline.catalogue import Pole, Referentiel, write_registry
from ptce_pipeline.catalogue.registry import PARIS
from ptce_pipeline.config import Settings
from ptce_pipeline.template.build import build_template
from ptce_pipeline.template.fill import FilledData, fill_workbook
from ptce_pipeline.xlsx_writer import workbook_bytes

PERIODS = (2024, 2025)
# Both campaigns still open on the demo's day (its clock: PTCE_NOW, or today): the demo drops
# every file at once, so a deadline before that day would make all of a period late.
DEADLINE_DAYS = {2024: 30, 2025: 120}


def demo_deadlines(today: dt.date) -> dict[int, dt.date]:
    """The demo's campaign deadlines, counted from its day: nothing it drops is late."""
    return {period: today + dt.timedelta(days=n) for period, n in DEADLINE_DAYS.items()}


@dataclass(frozen=True)
class DemoPole:
    pole_id: str
    nom: str
    departement: str
    commune: str
    ville: str
    secteur: str
    territoire: str


# The four named in the 2012 sources are real; the others are clearly fictitious ("fictif").
POLES = (
    DemoPole(
        "PTCE-001", "Pôle Sud", "26", "26281", "Romans-sur-Isère", "emploi_insertion", "mixte"
    ),
    DemoPole("PTCE-002", "SMAC 07", "07", "07186", "Privas", "services_entreprises", "rural"),
    DemoPole(
        "PTCE-003", "Culture et Coopération", "42", "42218", "Saint-Étienne", "culture", "urbain"
    ),
    DemoPole("PTCE-004", "Domb'Innov", "01", "01427", "Trévoux", "emploi_insertion", "mixte"),
    DemoPole(
        "PTCE-005", "Pôle fictif des Deux Rives", "35", "35238", "Rennes", "eco_activites", "urbain"
    ),
    DemoPole(
        "PTCE-006",
        "Pôle fictif Estuaire Solidaire",
        "44",
        "44109",
        "Nantes",
        "services_personne",
        "urbain",
    ),
    DemoPole(
        "PTCE-007",
        "Pôle fictif Terres du Nord",
        "59",
        "59350",
        "Lille",
        "alimentation_agriculture",
        "mixte",
    ),
    DemoPole(
        "PTCE-008", "Pôle fictif Garonne Coopère", "31", "31555", "Toulouse", "numerique", "urbain"
    ),
    DemoPole(
        "PTCE-009",
        "Pôle fictif Bourgogne Partagée",
        "21",
        "21231",
        "Dijon",
        "habitat_batiment",
        "urbain",
    ),
    DemoPole(
        "PTCE-010", "Pôle fictif Doubs Avenir", "25", "25056", "Besançon", "mobilite", "mixte"
    ),
    DemoPole(
        "PTCE-011",
        "Pôle fictif Bocage Normand",
        "14",
        "14118",
        "Caen",
        "alimentation_agriculture",
        "rural",
    ),
    DemoPole(
        "PTCE-012",
        "Pôle fictif Seine Maritime Solidaire",
        "76",
        "76351",
        "Le Havre",
        "mobilite",
        "urbain",
    ),
    DemoPole(
        "PTCE-013",
        "Pôle fictif Montreuil Fabrique",
        "93",
        "93048",
        "Montreuil",
        "culture",
        "urbain",
    ),
    DemoPole(
        "PTCE-014",
        "Pôle fictif Calanques Coopératives",
        "13",
        "13055",
        "Marseille",
        "eco_activites",
        "urbain",
    ),
    DemoPole(
        "PTCE-015", "Pôle fictif Limousin Vert", "87", "87085", "Limoges", "eco_activites", "rural"
    ),
    DemoPole(
        "PTCE-016",
        "Pôle fictif Rhin Solidaire",
        "67",
        "67482",
        "Strasbourg",
        "services_personne",
        "urbain",
    ),
    DemoPole(
        "PTCE-017",
        "Pôle fictif Maquis Partagé",
        "2A",
        "2A004",
        "Ajaccio",
        "alimentation_agriculture",
        "mixte",
    ),
    DemoPole(
        "PTCE-018",
        "Pôle fictif Océan Indien Solidaire",
        "974",
        "97411",
        "Saint-Denis",
        "emploi_insertion",
        "mixte",
    ),
)

MEMBER_NAMES = {
    "ess": [
        "Association Tremplin",
        "SCOP Les Ateliers",
        "SCIC Énergies Citoyennes",
        "Régie de quartier",
        "Chantier d'insertion La Ressourcerie",
        "Coopérative d'activité et d'emploi",
        "Mutuelle solidaire",
        "Association Jardins de Cocagne",
        "Entreprise d'insertion Recyclerie",
    ],
    "pme": [
        "SARL Menuiserie du Val",
        "SAS Transports Locaux",
        "SARL Bureau d'études Horizon",
        "SAS Imprimerie Moderne",
        "SARL Boulangerie du Marché",
        "SAS Numérique Services",
    ],
    "collectivite": ["Communauté de communes", "Ville", "Conseil départemental"],
    "recherche": ["Laboratoire universitaire d'économie", "Institut de recherche appliquée"],
    "formation": [
        "Organisme de formation AFPA",
        "Lycée professionnel",
        "Centre de formation d'apprentis",
    ],
}
FORMS = {
    "ess": ["association", "scop", "scic", "cooperative", "mutuelle"],
    "pme": ["sas_sarl"],
    "collectivite": ["collectivite_epci"],
    "recherche": ["etablissement_public"],
    "formation": ["association", "etablissement_public"],
}


def registry() -> list[Pole]:
    """The demo's poles.csv; its addresses are fictitious (example.org) and the demo never
    sends mail."""
    return [
        Pole(
            p.pole_id,
            p.nom,
            p.departement,
            2012 if i < 4 else 2014,
            None,
            (f"contact@{p.pole_id.lower()}.example.org",),
        )
        for i, p in enumerate(POLES)
    ]


def siret(rng: random.Random) -> str:
    siren = "".join(str(rng.randint(0, 9)) for _ in range(8))
    siren = str(rng.randint(3, 9)) + siren[1:]
    siren += luhn.calc_check_digit(siren)
    body = siren + "0" + "".join(str(rng.randint(0, 9)) for _ in range(3))
    return body + luhn.calc_check_digit(body)


def _label(ref: Referentiel, liste: str, code: str) -> str:
    return ref.lists[liste].label_of(code) or code


def pole_data(
    ref: Referentiel, pole: DemoPole, period: int, rng: random.Random, base: dict
) -> FilledData:
    geo = ref.geography
    region = geo.regions[geo.departements[pole.departement][1]]
    n_members = base.setdefault("n_members", rng.randint(6, 14))
    members = base.get("members")
    if members is None:
        cats = ["ess", "ess", "pme", "collectivite"] + [
            rng.choice(["ess", "ess", "pme", "formation", "recherche", "collectivite"])
            for _ in range(n_members - 4)
        ]
        members = []
        for i, cat in enumerate(cats):
            name = rng.choice(MEMBER_NAMES[cat])
            if cat == "collectivite":
                name = (
                    f"{name} de {pole.ville}"
                    if name != "Conseil départemental"
                    else f"{name} ({pole.departement})"
                )
            members.append(
                {
                    "nom": f"{name} {i + 1}" if cat != "collectivite" else name,
                    "siret": siret(rng),
                    "categorie": _label(ref, "categories_membres", cat),
                    "forme_juridique": _label(ref, "formes_juridiques", rng.choice(FORMS[cat])),
                    "commune": pole.commune,
                    "annee_adhesion": rng.randint(2008, 2020),
                    "etp": round(rng.uniform(0.5, 40), 1) if cat in ("ess", "pme") else None,
                }
            )
        base["members"] = members
    growth = 1.0 if period == PERIODS[0] else rng.uniform(0.9, 1.25)
    b = base.setdefault("ind", {})
    if not b:
        jobs = rng.randint(25, 260)
        public = rng.randint(20, 60)
        b.update(
            {
                "IND01": rng.randint(3, 60),
                "IND02": rng.randint(55, 100),
                "IND03": rng.randint(0, 8),
                "IND04": rng.randint(1, 12),
                "IND05": rng.randint(200, 15000),
                "IND06": rng.randint(50, 100),
                "IND07": sum(1 for m in members if m["categorie"].startswith("Collectivit"))
                + rng.randint(0, 3),
                "IND08": public,
                "IND09": rng.randint(1, 3),
                "IND10": rng.randint(4, 24),
                "IND11": rng.randint(40, 100),
                "IND12": rng.randint(1, 3),
                "IND13": rng.randint(1, 15),
                "IND14": round(rng.uniform(0, 6), 1),
                "IND15": rng.choice([0, 120, 350, 800, 1600]),
                "IND16": rng.randint(1, 20),
                "IND17": rng.randint(20, 900) * 1000,
                "IND18": rng.randint(2, 40),
                "IND19": rng.randint(0, 8),
                "IND20": rng.randint(0, 6),
                "IND21": rng.randint(500, 15000) * 1000,
                "IND22": jobs,
                "IND23": round(jobs * rng.uniform(0.02, 0.12), 1),
                "IND24": round(jobs * rng.uniform(0.05, 0.3), 1),
                "IND25": rng.randint(60, 600) * 1000,
                "IND26": rng.randint(10, 100 - public),
                "IND27": rng.randint(0, 6),
            }
        )
    indicators = {}
    for ind in ref.indicators:
        value = b.get(ind.code, 1)
        if ind.kind in ("count", "euros", "fte", "m2") and period != PERIODS[0]:
            value = round(value * growth, 1 if ind.kind == "fte" else 0)
            if ind.integer or ind.kind in ("euros", "m2"):
                value = int(value)
        indicators[ind.code] = value
    criteria = {}
    for crit in ref.criteria:
        answer = rng.choice(["Oui", "Oui", "Oui", "En partie", "Non"])
        criteria[crit.code] = (
            answer,
            "Voir le rapport d'activité et les conventions signées." if answer != "Non" else "",
        )
    return FilledData(
        identity={
            "pole_id": pole.pole_id,
            "nom": pole.nom,
            "periode": period,
            "structure_nom": members[0]["nom"],
            "structure_siret": members[0]["siret"],
            "structure_forme": _label(ref, "formes_juridiques", "association"),
            "commune": pole.commune,
            "departement": pole.departement,
            "region": region,
            "type_territoire": _label(ref, "types_territoire", pole.territoire),
            "echelle": _label(
                ref,
                "echelles_territoriales",
                rng.choice(["intercommunalite", "departement", "commune"]),
            ),
            "origine": _label(
                ref, "origines", rng.choice(["entrepreneuriale", "citoyenne", "collectivite"])
            ),
            "secteur": _label(ref, "secteurs", pole.secteur),
            "annee_creation": 2007 + int(pole.pole_id[-2:]) % 8,
            "contact_nom": "Camille Martin (fictif)",
            "contact_email": f"contact.{pole.pole_id.lower()}@exemple.fr",
        },
        members=[dict(m) for m in members],
        indicators=indicators,
        criteria=criteria,
    )


def _mistakes(data: FilledData, pole_id: str, period: int) -> FilledData:
    """A few of the mistakes poles really make, on fixed poles."""
    if period != PERIODS[-1]:
        return data
    if (
        pole_id == "PTCE-005"
    ):  # refused: text in a number, a mistyped SIRET, an unanswered criterion
        data.indicators["IND05"] = "environ 1200"
        data.members[1]["siret"] = data.members[1]["siret"][:-1] + str(
            (int(data.members[1]["siret"][-1]) + 1) % 10
        )
        data.criteria["CT3"] = (None, None)
    elif pole_id == "PTCE-009":  # refused: a percentage above 100 and a région that does not match
        data.indicators["IND02"] = 140
        data.identity["region"] = "Bretagne"
    elif (
        pole_id == "PTCE-013"
    ):  # accepted with warnings: "1.250" in euros, a "Oui" without justification
        data.indicators["IND17"] = "1.250"
        data.criteria["CI3"] = ("oui", "")
    elif pole_id == "PTCE-002":  # honest variants, all accepted
        data.indicators["IND14"] = "2,5"
        data.indicators["IND25"] = "185 000 €"
        data.indicators["IND08"] = "35 %"
        data.criteria["CI1"] = ("X", "Mixité de membres ESS et hors ESS.")
    return data


def workbooks(
    ref: Referentiel, seed: int, periods: tuple[int, ...] = PERIODS
) -> list[tuple[str, str, bytes]]:
    """→ [(pole_id, file name, bytes)] for every pole and period of `periods`, each filled in
    the plain template, deterministic for a seed. (`ptce demo` itself fills the second
    campaign in the workbooks `campaign prepare` pre-filled: `demo_second`.)"""
    out = []
    reg = {p.pole_id: p for p in registry()}
    for pole in POLES:
        rng = random.Random(f"{seed}-{pole.pole_id}")
        base: dict = {}
        for period in PERIODS:  # every period draws, so a period's data never depends on `periods`
            data = _mistakes(pole_data(ref, pole, period, rng, base), pole.pole_id, period)
            if period not in periods:
                continue
            wb = build_template(ref, pole=reg[pole.pole_id], period=period)
            fill_workbook(wb, ref, data)
            name = f"suivi_{pole.pole_id}_{period}.xlsx"
            out.append((pole.pole_id, name, workbook_bytes(wb)))
    return out


# An example of the national team's contact details (docs/guide.md, « Vos coordonnées »).
DEMO_CONTACT = """\
# Coordonnées de l'équipe nationale, montrées aux pôles dans la feuille « Lisez-moi » du modèle
# et dans chaque accusé de réception. Exemple fictif de la démonstration : toutes les lignes
# sont facultatives.
organisation = "Équipe nationale d'animation des PTCE"
service = "cellule de suivi"
courriel = "suivi-ptce@example.org"
telephone = "01 23 45 67 89"
adresse = \"\"\"
Équipe nationale d'animation des PTCE
1 rue de l'Exemple
75000 Paris\"\"\"
site_web = "https://www.example.org/ptce"
horaires = "du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h"
"""


def prepare(
    settings: Settings, ref: Referentiel, seed: int, periods: tuple[int, ...] = PERIODS
) -> list[Path]:
    """Registry, campaigns (those of `periods`), the national team's contact details and the
    workbooks of `periods`, dropped in the poles' folders."""
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    # the demo never sends mail, whatever PTCE_SMTP_* say (read by ptce_pipeline.mail)
    settings.demo_marker.write_text(
        "Installation de démonstration : aucun courriel n'est envoyé.\n", encoding="utf-8"
    )
    if not settings.registry_path.exists():
        write_registry(settings.registry_path, registry())
    if not settings.campaigns_path.exists():
        today = settings.clock().astimezone(PARIS).date()
        settings.campaigns_path.write_text(
            "periode,date_limite\n"
            + "".join(
                f"{p},{d.isoformat()}\n" for p, d in demo_deadlines(today).items() if p in periods
            ),
            encoding="utf-8",
        )
    if not settings.contact_path.exists():
        settings.contact_path.write_text(DEMO_CONTACT, encoding="utf-8")
    dropped = []
    for pole_id, name, data in workbooks(ref, seed, periods):
        dropped.append(drop_file(settings, pole_id, name, data))
    return dropped


def drop_file(settings: Settings, pole_id: str, name: str, data: bytes) -> Path:
    """Drop a workbook in a pole's folder as a pole would (whole, under its final name)."""
    folder = settings.pole_inbox(pole_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
