"""The national team's contact details, set once for the home in `contact.toml` (optional) and
shown to the poles: in the template's Lisez-moi sheet and in every receipt.

The file is the national team's own input: every value is checked here (a clear French error
naming the file, the line and the key), then handled as plain text — never markup — by what
shows it. Without the file, the poles read what they always read: « Pour toute question :
<the référentiel's `meta.contact`> ». The contact changes no data and no decision, so it is
not part of the configuration archived by hash (`store/configs.py`) nor of the versions a
decision records."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path

from ptce_pipeline.config import ADDRESS_RE
from ptce_pipeline.errors import ConfigError

CONTACT_FILE = "contact.toml"

# key → (label shown to the poles, longest value, may span several lines)
KEYS: dict[str, tuple[str, int, bool]] = {
    "organisation": ("Organisation", 200, False),
    "service": ("Service", 200, False),
    "courriel": ("Courriel", 254, False),
    "telephone": ("Téléphone", 30, False),
    "adresse": ("Adresse postale", 400, True),
    "site_web": ("Site web", 300, False),
    "horaires": ("Horaires", 200, False),
}
EMAIL_RE = ADDRESS_RE  # one rule for the addresses we write to (config.py)
PHONE_RE = re.compile(r"\+?[0-9][0-9 .()\-]{3,28}[0-9]")
URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s<>\"'`\\]*)?")
FORMATS = {
    "courriel": (EMAIL_RE, "une adresse électronique comme prenom.nom@exemple.fr"),
    "telephone": (
        PHONE_RE,
        "un numéro de téléphone : chiffres, espaces, points ou tirets, « + » devant un "
        "indicatif (01 23 45 67 89, +33 1 23 45 67 89)",
    ),
    "site_web": (URL_RE, "une adresse web complète commençant par https://"),
}


@dataclass(frozen=True)
class Contact:
    """Who the poles ask, and how to reach them. Only `organisation` is always set."""

    organisation: str
    service: str = ""
    courriel: str = ""
    telephone: str = ""
    adresse: str = ""
    site_web: str = ""
    horaires: str = ""

    @property
    def who(self) -> str:
        """« Organisation, service »: whom to ask."""
        return f"{self.organisation}, {self.service}" if self.service else self.organisation

    def details(self) -> list[tuple[str, str, str]]:
        """(key, French label, value) of each way to reach them that is set, in file order."""
        skip = ("organisation", "service")
        return [
            (f.name, KEYS[f.name][0], getattr(self, f.name))
            for f in fields(self)
            if f.name not in skip and getattr(self, f.name)
        ]


def load_contact(path: Path, default: str) -> Contact:
    """The home's `contact.toml`; `Contact(default)` when there is none. `default`: whom to
    ask when the file does not say (the référentiel's `meta.contact`)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Contact(organisation=default)
    except OSError as exc:
        raise ConfigError(f"Impossible de lire {path} : {exc.strerror}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} doit être enregistré en UTF-8.") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message gives the line and the column
        raise ConfigError(f"{path} est illisible : {exc}.") from None
    values = {key: _checked(path, text, key, value) for key, value in raw.items()}
    values = {k: v for k, v in values.items() if v}
    values.setdefault("organisation", default)
    return Contact(**values)


def _checked(path: Path, text: str, key: str, value: object) -> str:
    def fail(problem: str) -> ConfigError:
        line = _line(text, key)
        at = f", ligne {line}" if line else ""
        return ConfigError(f"{path}{at}, « {key} » : {problem}")

    if key not in KEYS:
        known = ", ".join(KEYS)
        if isinstance(value, dict):
            raise fail(f"les rubriques ne sont pas prévues ; clés possibles : {known}.")
        raise fail(f"clé inconnue (clés possibles : {known}).")
    if not isinstance(value, str):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        raise fail(f"un texte entre guillemets est attendu, trouvé « {shown} ».")
    _, longest, multiline = KEYS[key]
    value = "\n".join(ln.strip() for ln in value.strip().splitlines()) if multiline else value
    value = value.strip()
    bad = next((c for c in value if _forbidden(c, multiline)), None)
    if bad is not None:
        raise fail(
            f"caractère de contrôle ou invisible U+{ord(bad):04X} interdit"
            + (" (un seul texte sur une ligne)" if bad == "\n" else "")
            + "."
        )
    if len(value) > longest:
        raise fail(f"{longest} caractères au plus (trouvé {len(value)}).")
    if value and key in FORMATS:
        pattern, expected = FORMATS[key]
        if not pattern.fullmatch(value):
            raise fail(f"{expected} est attendu, trouvé « {value} ».")
    return value


def _forbidden(char: str, multiline: bool) -> bool:
    if char == "\n":
        return not multiline
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
    for n, ln in enumerate(text.splitlines(), start=1):
        if pattern.match(ln):
            return n
    return None
