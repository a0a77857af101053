"""The configuration in force for a decision: référentiel, registry and campaign deadlines,
with their hashes (recorded in the journal, archived by hash, reloaded by `rebuild`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from . import RULES_VERSION
from .config import Settings
from .journal import Journal, archive_config, config_file
from .ledger import Versions
from .referentiel import Referentiel, load_referentiel, load_referentiel_bytes, referentiel_bytes
from .registry import Campaigns, Registry, load_campaigns, load_registry


@dataclass
class Config:
    ref: Referentiel
    ref_bytes: bytes
    registry: Registry
    registry_bytes: bytes
    campaigns: Campaigns
    campaigns_bytes: bytes

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
    return Config(
        ref=ref,
        ref_bytes=referentiel_bytes(ref_path),
        registry=load_registry(settings.registry_path),
        registry_bytes=_bytes(settings.registry_path),
        campaigns=load_campaigns(settings.campaigns_path),
        campaigns_bytes=_bytes(settings.campaigns_path),
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


def archive_current(settings: Settings, cfg: Config) -> None:
    """Archive the configuration files in force, by hash (no-op when already archived)."""
    suffix = ".yaml" if cfg.ref.source.endswith((".yaml", ".yml")) else ".toml"
    archive_config(settings, "referentiel", cfg.ref_bytes, suffix)
    if cfg.registry_bytes:
        archive_config(settings, "poles", cfg.registry_bytes, ".csv")
    if cfg.campaigns_bytes:
        archive_config(settings, "campagnes", cfg.campaigns_bytes, ".csv")


class ConfigStore:
    """Configurations by version, for replaying journal records."""

    def __init__(self, settings: Settings, current: Config | None = None):
        self.settings = settings
        self.cache: dict[tuple[str, str, str], Config] = {}
        self.latest: Config | None = None
        if current is not None:
            v = current.versions
            self.cache[(v.referentiel_sha256, v.registry_sha256, v.campaigns_sha256)] = current

    def get(self, versions: dict[str, str]) -> Config:
        key = (versions["referentiel"], versions.get("poles", ""), versions.get("campagnes", ""))
        if key not in self.cache:
            self.cache[key] = self._load(*key)
        return self.cache[key]

    def _load(self, ref_sha: str, poles_sha: str, camp_sha: str) -> Config:
        from .errors import ConfigError

        ref_path = config_file(self.settings, "referentiel", ref_sha)
        if ref_path is None:
            raise ConfigError(
                f"Le référentiel {ref_sha[:12]} n'est pas dans l'archive (archive/config)."
            )
        ref_data = ref_path.read_bytes()
        ref = load_referentiel_bytes(ref_data, str(ref_path))
        reg_path = config_file(self.settings, "poles", poles_sha) if poles_sha else None
        camp_path = config_file(self.settings, "campagnes", camp_sha) if camp_sha else None
        if poles_sha and reg_path is None:
            raise ConfigError(
                f"Le registre {poles_sha[:12]} n'est pas dans l'archive (archive/config)."
            )
        registry = load_registry(reg_path) if reg_path else Registry({}, "")
        campaigns = load_campaigns(camp_path) if camp_path else Campaigns({}, "")
        return Config(
            ref,
            ref_data,
            registry,
            reg_path.read_bytes() if reg_path else b"",
            campaigns,
            camp_path.read_bytes() if camp_path else b"",
        )


def record_config(
    journal: Journal, settings: Settings, cfg: Config, last: dict[str, str] | None, at=None
) -> dict[str, str]:
    """Journal a `config` record when the versions in force changed since the last one."""
    archive_current(settings, cfg)
    current = versions_dict(cfg.versions)
    if last != current:
        record = {"type": "config", **current}
        if at is not None:
            record["at"] = at.isoformat()
        journal.add(record)
    return current


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
