"""The configurations decisions were taken under, archived by hash and journaled when they
change, so `rebuild` reloads exactly the référentiel, registry and campaigns of each decision."""

from __future__ import annotations

from ptce_pipeline.catalogue.context import Config, versions_dict
from ptce_pipeline.catalogue.referentiel import load_referentiel_bytes
from ptce_pipeline.catalogue.registry import Campaigns, Registry, load_campaigns, load_registry
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.store.journal import Journal, archive_config, config_file


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
