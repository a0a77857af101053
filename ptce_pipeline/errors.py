"""Our own faults: a small exception tree. Expected problems in pole files are `Issue` values,
never exceptions."""

from __future__ import annotations

import errno


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


INGEST_DISK_FULL = (
    "l'entrepôt vivant n'a pas changé, les fichiers reçus sont archivés et seront traités au "
    "prochain passage"
)


def describe_error(exc: BaseException, disk_full: str = INGEST_DISK_FULL) -> str:
    """One French line for one of our own failures (what happened, what to do)."""
    if _is_disk_full(exc):
        return f"disque plein (ENOSPC) : libérez de la place ; {disk_full}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__} : {text[:200]}"


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()  # DuckDB reports a full disk as an IO Error with the OS message
    return "no space left on device" in text or "disk quota exceeded" in text


_OS_REASONS = {
    errno.EPERM: "opération non permise",
    errno.EACCES: "permission refusée",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EBUSY: "fichier occupé",
    errno.ENOSPC: "disque plein",
}


def os_reason(exc: OSError) -> str:
    """Why the file system refused, in French (the OS's own words otherwise)."""
    return _OS_REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
