"""Settings: the environment is read here, once, into a frozen object passed down explicitly."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ptce_pipeline.errors import ConfigError

MIB = 1024 * 1024
FEEDBACK_DIR = "retours"  # inbox/<pole>/retours/: what a pole gets back


@dataclass(frozen=True)
class Limits:
    """Bounds applied to every received file before and while it is parsed."""

    max_file_bytes: int = 50 * MIB
    max_zip_entries: int = 2000
    max_member_bytes: int = 64 * MIB
    max_total_bytes: int = 256 * MIB
    max_ratio: int = 200
    max_rows: int = 20_000
    max_cols: int = 200
    # cells across all sheets (each sheet counted to its farthest value cell, as the readers
    # allocate it): bounds the total work one file can ask for
    max_cells: int = 1_000_000
    # every process parsing a pole's bytes (readers, annotated copies); the README's bound is 1 GB
    worker_memory_mb: int = 1024
    parse_timeout_s: float = 30.0
    preflight: bool = True


@dataclass(frozen=True)
class Smtp:
    """The SMTP server the e-mails to the poles go through (`PTCE_SMTP_*`). `problem` is a
    French sentence when the settings cannot be used (a password file others can read): mail
    is then not sent and every run says why, but nothing else stops (ingestion never waits on
    mail)."""

    host: str
    port: int
    security: str  # starttls | tls | aucune
    sender: str
    user: str = ""
    password: str = field(default="", repr=False)  # never printed, never logged
    rate_per_minute: float = 30.0
    timeout_s: float = 10.0
    problem: str = ""


@dataclass(frozen=True)
class Settings:
    home: Path
    settle_seconds: float = 30.0
    workers: int = 2
    chunk_size: int = 200
    limits: Limits = field(default_factory=Limits)
    referentiel_override: Path | None = None
    prefect_home: Path | None = None
    fault: str | None = None  # fault-injection point, for tests only (PTCE_FAULT)
    fault_dir: Path | None = None  # where `pause` faults meet their test (PTCE_FAULT_DIR)
    user: str = "inconnu"
    now: dt.datetime | None = None  # PTCE_NOW: a fixed clock, for tests and demos only
    # PTCE_PORTAL_URL: the portal's public base URL, as the poles reach it (links in messages)
    portal_url: str = "http://127.0.0.1:8000"
    # PTCE_FAST_NOOP=0: a run with nothing to do goes through Prefect all the same (tests, ops)
    fast_noop: bool = True
    # PTCE_SMTP_*: None without PTCE_SMTP_HOST (nothing is sent; each run says so once)
    smtp: Smtp | None = None
    # PTCE_DIGEST_TO: the national team's weekly digest, an e-mail address or an Apprise URL
    digest_to: str = ""
    digest_weekday: int = 0  # PTCE_DIGEST_DAY: Monday = 0 (lundi)

    def clock(self) -> dt.datetime:
        """The one clock of the pipeline (UTC): receipts, journal, manifests, publications and
        lock notes all read it. `PTCE_NOW` fixes it (byte-identical outputs, date-dependent
        tests); otherwise it is the machine's clock. Durations and the settle delay (compared
        with the files' inode change times) keep using the real clock."""
        return self.now if self.now is not None else dt.datetime.now(dt.UTC)

    # --- the home layout (the contract of the foundation issue) ---
    @property
    def registry_path(self) -> Path:
        return self.home / "poles.csv"

    @property
    def campaigns_path(self) -> Path:
        return self.home / "campagnes.csv"

    @property
    def contact_path(self) -> Path:
        """The national team's contact details (optional; `catalogue.contact`)."""
        return self.home / "contact.toml"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def live_db(self) -> Path:
        return self.warehouse_dir / "ptce.duckdb"

    @property
    def snapshot_db(self) -> Path:
        return self.warehouse_dir / "ptce_lecture.duckdb"

    @property
    def archive_dir(self) -> Path:
        return self.warehouse_dir / "archive"

    @property
    def journal_path(self) -> Path:
        return self.archive_dir / "journal.jsonl"

    @property
    def publications_dir(self) -> Path:
        """The root of every audience's publications (see `publications_for`)."""
        return self.warehouse_dir / "publications"

    def publications_for(self, audience: str) -> Path:
        """publications/public/ (open data) or publications/interne/ (the national team)."""
        return self.publications_dir / audience

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def quarantine_dir(self) -> Path:
        return self.warehouse_dir / "quarantine"

    @property
    def portal_dir(self) -> Path:
        """The portal's own store (access links, sessions, audit) and its upload area."""
        return self.home / "portal"

    @property
    def demo_marker(self) -> Path:
        """Written by `ptce demo` in its home: such a home never sends mail."""
        return self.home / ".ptce-demo"

    @property
    def outbox_path(self) -> Path:
        """The outbox journal: every e-mail's intent and success (personal data: mode 0600)."""
        return self.warehouse_dir / "courriels.jsonl"

    @property
    def lock_path(self) -> Path:
        return self.warehouse_dir / "ptce.lock"

    @property
    def referentiel_path(self) -> Path | None:
        """The home's own référentiel, if it has one (it replaces the packaged catalogue)."""
        if self.referentiel_override:
            return self.referentiel_override
        for name in ("referentiel.toml", "referentiel.yaml", "referentiel.yml"):
            candidate = self.home / name
            if candidate.is_file():
                return candidate
        return None

    @property
    def prefect_dir(self) -> Path:
        return self.prefect_home or (self.home / ".prefect")

    def pole_inbox(self, pole_id: str) -> Path:
        return self.inbox / pole_id

    def pole_feedback(self, pole_id: str) -> Path:
        return self.inbox / pole_id / FEEDBACK_DIR

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} doit être un nombre (reçu : {raw!r}).") from None


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    return int(_float(environ, name, default))


PARIS = "Europe/Paris"


def _now(environ: Mapping[str, str]) -> dt.datetime | None:
    """PTCE_NOW: an ISO 8601 date or date-time; without an offset it is Paris time."""
    raw = (environ.get("PTCE_NOW") or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(
            f"PTCE_NOW doit être une date ISO 8601, par exemple 2026-04-01T09:00:00+02:00 "
            f"(reçu : {raw!r})."
        ) from None
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo(PARIS))
    return value.astimezone(dt.UTC)


def system_user() -> str | None:
    """The account running the process, from the password database: known even when $USER is
    unset (cron, services, `env -i`), and not forgeable by the environment. None when the
    uid has no entry (a container's arbitrary uid) or the platform has no `pwd`."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name or None
    except (ImportError, KeyError):
        return None


def recording_user(environ: Mapping[str, str]) -> str:
    """Who records a correction when `--by` is not given: PTCE_USER, else the system user,
    else $USER / $LOGNAME, else « inconnu »."""
    return (
        (environ.get("PTCE_USER") or "").strip()
        or system_user()
        or (environ.get("USER") or "").strip()
        or (environ.get("LOGNAME") or "").strip()
        or "inconnu"
    )


def resolve_home(
    cli_home: str | os.PathLike | None, environ: Mapping[str, str], *, demo=False
) -> Path:
    """--home, then PTCE_HOME, then the current directory (./ptce-demo for `demo`)."""
    if cli_home:
        return Path(cli_home).expanduser().absolute()
    if environ.get("PTCE_HOME"):
        return Path(environ["PTCE_HOME"]).expanduser().absolute()
    if demo:
        return Path.cwd() / "ptce-demo"
    return Path.cwd()


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    home: str | os.PathLike | None = None,
    demo: bool = False,
    settle: float | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    base = Limits()
    limits = Limits(
        max_file_bytes=_int(environ, "PTCE_MAX_FILE_BYTES", base.max_file_bytes),
        max_zip_entries=_int(environ, "PTCE_MAX_ZIP_ENTRIES", base.max_zip_entries),
        max_member_bytes=_int(environ, "PTCE_MAX_MEMBER_BYTES", base.max_member_bytes),
        max_total_bytes=_int(environ, "PTCE_MAX_TOTAL_BYTES", base.max_total_bytes),
        max_ratio=_int(environ, "PTCE_MAX_RATIO", base.max_ratio),
        max_rows=_int(environ, "PTCE_MAX_ROWS", base.max_rows),
        max_cols=_int(environ, "PTCE_MAX_COLS", base.max_cols),
        max_cells=_int(environ, "PTCE_MAX_CELLS", base.max_cells),
        worker_memory_mb=_int(environ, "PTCE_WORKER_MEMORY_MB", base.worker_memory_mb),
        parse_timeout_s=_float(environ, "PTCE_PARSE_TIMEOUT", base.parse_timeout_s),
        preflight=environ.get("PTCE_PREFLIGHT", "1") not in ("0", "false", "non"),
    )
    workers = _int(environ, "PTCE_WORKERS", min(os.cpu_count() or 1, 4))
    settle_seconds = settle if settle is not None else _float(environ, "PTCE_SETTLE", 30.0)
    prefect_home = environ.get("PTCE_PREFECT_HOME")
    ref = environ.get("PTCE_REFERENTIEL")
    return Settings(
        home=resolve_home(home, environ, demo=demo),
        settle_seconds=max(0.0, settle_seconds),
        workers=max(1, workers),
        chunk_size=max(1, _int(environ, "PTCE_CHUNK_SIZE", 200)),
        limits=limits,
        referentiel_override=Path(ref) if ref else None,
        prefect_home=Path(prefect_home) if prefect_home else None,
        fault=environ.get("PTCE_FAULT") or None,
        fault_dir=Path(environ["PTCE_FAULT_DIR"]) if environ.get("PTCE_FAULT_DIR") else None,
        user=recording_user(environ),
        now=_now(environ),
        portal_url=_portal_url(environ),
        fast_noop=environ.get("PTCE_FAST_NOOP", "1") not in ("0", "false", "non"),
        smtp=_smtp(environ),
        digest_to=(environ.get("PTCE_DIGEST_TO") or "").strip(),
        digest_weekday=_weekday(environ),
    )


# An e-mail address we accept to write to: a dot-atom local part and a domain of letters, digits
# and dashes (no quoted forms, no comments, no spaces: nothing a header could be split on).
ADDRESS_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def is_address(text: str) -> bool:
    return len(text) <= 254 and ADDRESS_RE.fullmatch(text) is not None


SECURITY_PORTS = {"starttls": 587, "tls": 465, "aucune": 25}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def _weekday(environ: Mapping[str, str]) -> int:
    raw = (environ.get("PTCE_DIGEST_DAY") or "lundi").strip().lower()
    if raw not in WEEKDAYS:
        raise ConfigError(
            f"PTCE_DIGEST_DAY doit être un jour de la semaine ({', '.join(WEEKDAYS)}) "
            f"(reçu : « {raw[:40]} »)."
        )
    return WEEKDAYS.index(raw)


def secret_from_file(path: Path, name: str) -> tuple[str, str]:
    """A secret read from a file its owner only can read → (secret, problem). A file the group
    or others may read, or that belongs to someone else, is refused (its content unread)."""
    try:
        st = path.stat()
    except OSError as exc:
        return "", f"{name} : impossible de lire {path} ({exc.strerror})."
    if st.st_mode & 0o077:
        return "", (
            f"{name} : le fichier {path} est lisible par d'autres que son propriétaire "
            f"(droits {st.st_mode & 0o777:o}) : refusé ; rendez-le privé (chmod 600)."
        )
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return "", f"{name} : le fichier {path} n'appartient pas au compte qui lance ptce : refusé."
    try:
        return path.read_text(encoding="utf-8").strip("\r\n"), ""
    except (OSError, UnicodeError) as exc:
        return "", f"{name} : impossible de lire {path} ({exc})."


def _smtp(environ: Mapping[str, str]) -> Smtp | None:
    host = (environ.get("PTCE_SMTP_HOST") or "").strip()
    if not host:
        return None
    security = (environ.get("PTCE_SMTP_SECURITY") or "starttls").strip().lower()
    if security not in SECURITY_PORTS:
        raise ConfigError(
            f"PTCE_SMTP_SECURITY doit valoir starttls, tls ou aucune (reçu : « {security[:40]} »)."
        )
    sender = (environ.get("PTCE_SMTP_FROM") or "").strip()
    if not is_address(sender):
        raise ConfigError(
            "PTCE_SMTP_FROM doit être l'adresse d'expédition des courriels, par exemple "
            f"ptce@exemple.fr (reçu : « {sender[:80]} »)."
        )
    password, problem = environ.get("PTCE_SMTP_PASSWORD") or "", ""
    if not password and environ.get("PTCE_SMTP_PASSWORD_FILE"):
        password, problem = secret_from_file(
            Path(environ["PTCE_SMTP_PASSWORD_FILE"]), "PTCE_SMTP_PASSWORD_FILE"
        )
    return Smtp(
        host=host,
        port=_int(environ, "PTCE_SMTP_PORT", SECURITY_PORTS[security]),
        security=security,
        sender=sender,
        user=(environ.get("PTCE_SMTP_USER") or "").strip(),
        password=password,
        rate_per_minute=max(0.1, _float(environ, "PTCE_SMTP_RATE", 30.0)),
        timeout_s=max(1.0, _float(environ, "PTCE_SMTP_TIMEOUT", 10.0)),
        problem=problem,
    )


def _portal_url(environ: Mapping[str, str]) -> str:
    raw = (environ.get("PTCE_PORTAL_URL") or "").strip().rstrip("/")
    if not raw:
        return Settings.portal_url
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", raw):
        raise ConfigError(
            f"PTCE_PORTAL_URL doit être l'adresse publique du portail, par exemple "
            f"https://ptce.example.fr (reçu : « {raw[:80]} »)."
        )
    return raw
