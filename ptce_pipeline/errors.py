"""Our own faults: a small exception tree. Expected problems in pole files are `Issue` values,
never exceptions."""

from __future__ import annotations


class PtceError(Exception):
    """Base class: the pipeline cannot continue. The message is French (shown to the user)."""

    exit_code = 2


class ConfigError(PtceError):
    """Bad configuration, home or arguments."""


class HomeError(ConfigError):
    """The home folder is missing or malformed."""


class RegistryError(ConfigError):
    """poles.csv or campagnes.csv cannot be read."""


class ReferentielError(ConfigError):
    """The référentiel catalogue is invalid."""


class WarehouseError(PtceError):
    """The warehouse cannot be opened or written."""


class WarehouseCorrupt(WarehouseError):
    """The warehouse file cannot be opened: rebuild it from the archive."""


class WarehouseBusy(PtceError):
    """Another run holds the warehouse lock."""

    exit_code = 3


class NotFound(PtceError):
    """A submission, file or period named on the command line does not exist."""
