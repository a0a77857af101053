"""The portal's own store: personal access links, their sessions and an audit of who created or
revoked what (SQLite in WAL mode under `<home>/portal/`, never the DuckDB warehouse, which has a
single writer).

A link holds a random 256-bit token; only its SHA-256 is kept (a token carries 256 bits of
entropy: a slow password hash would add nothing). Sessions are the same: the cookie holds a
random value, the store its hash. Nothing here ever returns or logs a stored token: the token
exists once, in the value `create_access` returns to be printed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROLE_POLE = "pole"
ROLE_NATIONAL = "equipe_nationale"
STORE_NAME = "access.sqlite"
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS access (
    access_id    INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('pole', 'equipe_nationale')),
    pole_id      TEXT,
    label        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    revoked_by   TEXT,
    CHECK ((role = 'pole') = (pole_id IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS session (
    session_hash TEXT PRIMARY KEY,
    access_id    INTEGER NOT NULL REFERENCES access (access_id),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX IF NOT EXISTS session_by_access ON session (access_id);
CREATE TABLE IF NOT EXISTS audit (
    audit_id  INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    access_id INTEGER,
    pole_id   TEXT,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS failed_attempt (
    client TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failed_by_client ON failed_attempt (client, at);
CREATE TABLE IF NOT EXISTS upload (
    pole_id   TEXT NOT NULL,
    name      TEXT NOT NULL,
    ino       INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    at        TEXT NOT NULL,
    access_id INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Access:
    """One personal link, as `ptce access list` shows it (never its token)."""

    access_id: int
    role: str
    pole_id: str | None
    label: str
    created_at: str
    created_by: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None
    revoked_by: str | None

    def state(self, now: dt.datetime) -> str:
        """`active`, `expiree` or `revoquee` (the words of `ptce access list --json`)."""
        if self.revoked_at:
            return "revoquee"
        if self.expires_at and _parse(self.expires_at) <= now:
            return "expiree"
        return "active"


@dataclass(frozen=True)
class Identity:
    """Who a request is: a pole (its id) or the national team. Every query for pole data takes
    one of these; a route never decides by itself who may see what."""

    role: str
    pole_id: str | None
    access_id: int
    label: str

    @property
    def national(self) -> bool:
        return self.role == ROLE_NATIONAL


@dataclass(frozen=True)
class Session:
    identity: Identity
    csrf: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def store_path(portal_dir: Path) -> Path:
    return portal_dir / STORE_NAME


@contextlib.contextmanager
def connect(portal_dir: Path) -> Iterator[sqlite3.Connection]:
    """The store, created on first use (folder 0700, file 0600), in WAL mode so the portal's
    readers never wait for `ptce access` writing. One transaction per `with`."""
    portal_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = store_path(portal_dir)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        os.close(fd)
    con = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA synchronous = FULL")
        if con.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            con.executescript(_SCHEMA)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def _audit(con, now, actor, action, access_id=None, pole_id=None, detail="") -> None:
    con.execute(
        "INSERT INTO audit (at, actor, action, access_id, pole_id, detail) VALUES (?,?,?,?,?,?)",
        (_iso(now), actor, action, access_id, pole_id, detail),
    )


def create_access(
    portal_dir: Path,
    *,
    pole_id: str | None,
    label: str,
    expires_at: dt.datetime | None,
    by: str,
    now: dt.datetime,
) -> tuple[Access, str]:
    """A new link for a pole (or the national team when `pole_id` is None) → (the link's
    record, its token). The token is returned once, to be handed to its holder; only its hash
    is stored."""
    token = new_token()
    role = ROLE_NATIONAL if pole_id is None else ROLE_POLE
    with connect(portal_dir) as con:
        cur = con.execute(
            "INSERT INTO access (token_hash, role, pole_id, label, created_at, created_by,"
            " expires_at) VALUES (?,?,?,?,?,?,?)",
            (
                token_hash(token),
                role,
                pole_id,
                label,
                _iso(now),
                by,
                _iso(expires_at) if expires_at else None,
            ),
        )
        access_id = int(cur.lastrowid)
        _audit(con, now, by, "creation", access_id, pole_id, label)
        row = _select(con, "WHERE access_id = ?", (access_id,))[0]
    return row, token


def _select(con, where: str = "", params: tuple = ()) -> list[Access]:
    rows = con.execute(
        "SELECT access_id, role, pole_id, label, created_at, created_by, expires_at,"
        f" last_used_at, revoked_at, revoked_by FROM access {where} ORDER BY access_id",
        params,
    ).fetchall()
    return [Access(*r) for r in rows]


def list_access(portal_dir: Path, pole_id: str | None = None) -> list[Access]:
    with connect(portal_dir) as con:
        if pole_id is None:
            return _select(con)
        return _select(con, "WHERE pole_id = ?", (pole_id,))


def revoke(portal_dir: Path, access_ids: list[int], *, by: str, now: dt.datetime) -> list[Access]:
    """Revoke links at once: they stop opening and every session they started ends. Returns
    the links revoked now (an unknown id or one already revoked is left out)."""
    done = []
    with connect(portal_dir) as con:
        for access_id in access_ids:
            found = _select(con, "WHERE access_id = ? AND revoked_at IS NULL", (access_id,))
            if not found:
                continue
            con.execute(
                "UPDATE access SET revoked_at = ?, revoked_by = ? WHERE access_id = ?",
                (_iso(now), by, access_id),
            )
            con.execute(
                "UPDATE session SET ended_at = ? WHERE access_id = ? AND ended_at IS NULL",
                (_iso(now), access_id),
            )
            _audit(con, now, by, "revocation", access_id, found[0].pole_id)
            done.append(_select(con, "WHERE access_id = ?", (access_id,))[0])
    return done


def audit_log(portal_dir: Path) -> list[tuple]:
    with connect(portal_dir) as con:
        return con.execute(
            "SELECT at, actor, action, access_id, pole_id, detail FROM audit ORDER BY audit_id"
        ).fetchall()


def _live(con, now: dt.datetime, where: str, params: tuple) -> Access | None:
    found = _select(con, where, params)
    if not found or found[0].state(now) != "active":
        return None
    return found[0]


def _identity(a: Access) -> Identity:
    return Identity(a.role, a.pole_id, a.access_id, a.label)


def open_link(portal_dir: Path, token: str, *, now: dt.datetime) -> tuple[Session, str] | None:
    """A link was opened: if its token is live, start a session → (session, cookie value);
    otherwise None. The token is compared by its hash (constant time through the index)."""
    if not token or len(token) > 200:
        return None
    with connect(portal_dir) as con:
        access = _live(con, now, "WHERE token_hash = ?", (token_hash(token),))
        if access is None:
            return None
        cookie, csrf = new_token(), new_token()
        con.execute(
            "INSERT INTO session (session_hash, access_id, csrf, created_at, last_seen_at)"
            " VALUES (?,?,?,?,?)",
            (token_hash(cookie), access.access_id, csrf, _iso(now), _iso(now)),
        )
        con.execute(
            "UPDATE access SET last_used_at = ? WHERE access_id = ?", (_iso(now), access.access_id)
        )
    return Session(_identity(access), csrf), cookie


def session_for(
    portal_dir: Path,
    cookie: str,
    *,
    now: dt.datetime,
    idle: dt.timedelta,
    absolute: dt.timedelta,
) -> Session | None:
    """The session a cookie names, if it is live: not ended, its link neither revoked nor
    expired, used within `idle`, begun within `absolute`. Touches its last use."""
    if not cookie or len(cookie) > 200:
        return None
    with connect(portal_dir) as con:
        row = con.execute(
            "SELECT access_id, csrf, created_at, last_seen_at FROM session"
            " WHERE session_hash = ? AND ended_at IS NULL",
            (token_hash(cookie),),
        ).fetchone()
        if row is None:
            return None
        access_id, csrf, created, seen = row
        access = _live(con, now, "WHERE access_id = ?", (access_id,))
        if access is None or now - _parse(seen) > idle or now - _parse(created) > absolute:
            con.execute(
                "UPDATE session SET ended_at = ? WHERE session_hash = ?",
                (_iso(now), token_hash(cookie)),
            )
            return None
        con.execute(
            "UPDATE session SET last_seen_at = ? WHERE session_hash = ?",
            (_iso(now), token_hash(cookie)),
        )
    return Session(_identity(access), csrf)


def end_session(portal_dir: Path, cookie: str, *, now: dt.datetime) -> None:
    with connect(portal_dir) as con:
        con.execute(
            "UPDATE session SET ended_at = ? WHERE session_hash = ? AND ended_at IS NULL",
            (_iso(now), token_hash(cookie or "")),
        )


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf, sent)


def note_failure(portal_dir: Path, client: str, *, now: dt.datetime) -> None:
    with connect(portal_dir) as con:
        con.execute("INSERT INTO failed_attempt (client, at) VALUES (?, ?)", (client, _iso(now)))
        con.execute("DELETE FROM failed_attempt WHERE at < ?", (_iso(now - dt.timedelta(days=1)),))


def recent_failures(
    portal_dir: Path, client: str, *, now: dt.datetime, window: dt.timedelta
) -> int:
    with connect(portal_dir) as con:
        return con.execute(
            "SELECT count(*) FROM failed_attempt WHERE client = ? AND at >= ?",
            (client, _iso(now - window)),
        ).fetchone()[0]


def record_upload(
    portal_dir: Path,
    *,
    pole_id: str,
    name: str,
    ino: int,
    size: int,
    mtime_ns: int,
    sha256: str,
    access_id: int,
    now: dt.datetime,
) -> None:
    """A file the portal wrote whole into `inbox/<pole_id>/<name>` (so ingestion need not wait
    for it to settle). Rows older than a week are dropped."""
    with connect(portal_dir) as con:
        con.execute(
            "INSERT INTO upload (pole_id, name, ino, size, mtime_ns, sha256, at, access_id)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (pole_id, name, ino, size, mtime_ns, sha256, _iso(now), access_id),
        )
        con.execute("DELETE FROM upload WHERE at < ?", (_iso(now - dt.timedelta(days=7)),))


def whole_uploads(portal_dir: Path) -> set[tuple[str, str, int, int, int]]:
    """(pole_id, name, inode, size, mtime_ns) of the files the portal wrote whole; empty when
    there is no portal store. Read-only: never creates the store."""
    path = store_path(portal_dir)
    if not path.exists():
        return set()
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return set()
    try:
        return {
            tuple(r) for r in con.execute("SELECT pole_id, name, ino, size, mtime_ns FROM upload")
        }
    except sqlite3.Error:
        return set()
    finally:
        con.close()
