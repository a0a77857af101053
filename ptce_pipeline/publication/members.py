"""Members whose name is a person's name (an entreprise individuelle): never published by
name, in the internal fiches as in the open-data release."""

from __future__ import annotations

from ptce_pipeline.catalogue.referentiel import Referentiel

HIDDEN_MEMBER_FORMS = ("ei",)  # when the list flags no form `personne_physique`
HIDDEN_NAME = "Entreprise individuelle (nom non publié)"


def person_forms(ref: Referentiel) -> frozenset[str]:
    """Legal forms whose members are persons (their name is a person's name, never published)."""
    lst = ref.lists.get("formes_juridiques")
    flagged = lst.codes_with("personne_physique") if lst else frozenset()
    return flagged or frozenset(HIDDEN_MEMBER_FORMS)


HIDDEN_NAME = "Entreprise individuelle (nom non publié)"
