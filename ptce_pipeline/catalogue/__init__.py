"""What the pipeline checks against, read from `schemas/` and the home's files: the référentiel
(indicators, criteria, code lists, bounds — `referentiel`), the registry of poles and the
campaigns (`registry`), the layout of the template's sheets (`layout`), the French catalogue of
issues (`issues`), the neutralisers of text from a file for the terminal and Markdown
(`display`), the national team's contact details (`contact`), and the configuration of a run
with its versions (`context`).

Standard library only: importing it stays cheap.
"""

from ptce_pipeline.catalogue import advice, display, issues, layout
from ptce_pipeline.catalogue.contact import Contact, load_contact
from ptce_pipeline.catalogue.context import (
    Config,
    Versions,
    load_config,
    versions_dict,
    versions_from,
)
from ptce_pipeline.catalogue.issues import Issue
from ptce_pipeline.catalogue.referentiel import (
    Field,
    Indicator,
    Referentiel,
    fold,
    load_referentiel,
    load_referentiel_bytes,
    referentiel_bytes,
)
from ptce_pipeline.catalogue.registry import (
    POLE_ID_RE,
    Campaigns,
    Pole,
    Registry,
    load_campaigns,
    load_registry,
    write_registry,
    write_registry_header,
)

__all__ = [
    "POLE_ID_RE",
    "Campaigns",
    "Config",
    "Contact",
    "Field",
    "Indicator",
    "Issue",
    "Pole",
    "Referentiel",
    "Registry",
    "Versions",
    "advice",
    "display",
    "fold",
    "issues",
    "layout",
    "load_campaigns",
    "load_config",
    "load_contact",
    "load_referentiel",
    "load_referentiel_bytes",
    "load_registry",
    "referentiel_bytes",
    "versions_dict",
    "versions_from",
    "write_registry",
    "write_registry_header",
]
