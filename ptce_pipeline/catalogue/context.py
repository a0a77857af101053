"""The configuration in force for a decision: référentiel, registry and campaign deadlines,
with their hashes (recorded in the journal, archived by hash, reloaded by `rebuild`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ptce_pipeline import RULES_VERSION
from ptce_pipeline.catalogue.contact import Contact, load_contact
from ptce_pipeline.catalogue.referentiel import (
    Referentiel,
    load_referentiel,
    referentiel_bytes,
)
from ptce_pipeline.catalogue.registry import Campaigns, Registry, load_campaigns, load_registry
from ptce_pipeline.config import Settings


@dataclass
class Versions:
    """The versions a decision was taken under (recorded with it in the journal)."""

    referentiel_sha256: str
    referentiel_version: str
    rules_version: str
    registry_sha256: str
    campaigns_sha256: str


@dataclass
class Config:
    ref: Referentiel
    ref_bytes: bytes
    registry: Registry
    registry_bytes: bytes
    campaigns: Campaigns
    campaigns_bytes: bytes
    # the home's contact.toml as read now; None for a configuration reloaded from the archive
    # (the contact changes no decision: it is neither archived nor part of the versions)
    contact: Contact | None = None

    @property
    def versions(self) -> Versions:
        return Versions(
            referentiel_sha256=self.ref.sha256,
            referentiel_version=self.ref.version,
            rules_version=RULES_VERSION,
            registry_sha256=self.registry.sha256,
            campaigns_sha256=self.campaigns.sha256,
        )

    def registered(self, folder: str) -> bool:
        return bool(folder) and folder in self.registry.poles

    @property
    def personal_fields(self) -> frozenset[str]:
        return frozenset(f.key for f in self.ref.identity if f.personal)


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def load_config(settings: Settings) -> Config:
    ref_path = settings.referentiel_path
    ref = load_referentiel(ref_path)
    registry = load_registry(settings.registry_path)
    return Config(
        ref=ref,
        ref_bytes=referentiel_bytes(ref_path),
        registry=registry,
        # without the `courriels` column: addresses change no decision and are not archived
        registry_bytes=registry.decision_bytes,
        campaigns=load_campaigns(settings.campaigns_path),
        campaigns_bytes=_bytes(settings.campaigns_path),
        contact=load_contact(settings.contact_path, ref.contact),
    )


def versions_dict(v: Versions) -> dict[str, str]:
    return {
        "referentiel": v.referentiel_sha256,
        "referentiel_version": v.referentiel_version,
        "rules": v.rules_version,
        "poles": v.registry_sha256,
        "campagnes": v.campaigns_sha256,
    }


def versions_from(d: dict[str, str]) -> Versions:
    return Versions(
        referentiel_sha256=d["referentiel"],
        referentiel_version=d.get("referentiel_version", ""),
        rules_version=d.get("rules", RULES_VERSION),
        registry_sha256=d.get("poles", ""),
        campaigns_sha256=d.get("campagnes", ""),
    )


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
