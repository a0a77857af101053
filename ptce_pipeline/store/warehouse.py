"""The DuckDB warehouse: migrations, connections, generations, reference tables.

Writes never touch the live file in place: a run copies `ptce.duckdb` to `ptce.next.duckdb`,
writes there (one transaction per decision), checkpoints, closes, fsyncs and renames it over
the live file. A crash or a full disk can only damage the `.next` copy, which the next run
removes; the live warehouse is always the old or the new state, never a mix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue.referentiel import Referentiel
from ptce_pipeline.catalogue.registry import Campaigns, Registry
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import WarehouseCorrupt, WarehouseError
from ptce_pipeline.faults import fault_point
from ptce_pipeline.store.durable import fsync_dir, fsync_file


def _migrations() -> list[tuple[int, str, str]]:
    out = []
    folder = resources.files("ptce_pipeline.store").joinpath("migrations")
    for entry in folder.iterdir():
        m = re.match(r"^(\d{3})_(.+)\.sql$", entry.name)
        if m:
            out.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(out)


def views_sql() -> str:
    return (
        resources.files("ptce_pipeline.store")
        .joinpath("migrations", "views.sql")
        .read_text(encoding="utf-8")
    )


def schema_version(con) -> int:
    try:
        row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except Exception:
        return 0
    return int(row[0] or 0)


def migrate(con, *, upto: int | None = None) -> list[int]:
    """Apply the numbered migrations not yet applied; record each. Nothing is dropped."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)"
    )
    current = schema_version(con)
    applied = []
    for version, name, sql in _migrations():
        if version <= current or (upto is not None and version > upto):
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    if upto is None:
        con.execute(views_sql())
    return applied


_CORRUPT_HINTS = ("not a valid duckdb", "corrupt", "checksum", "wal", "serializ", "invalid")


def _classify(exc: Exception, path: Path) -> Exception:
    text = str(exc)
    low = text.lower()
    if "lock" in low and ("conflicting" in low or "could not set lock" in low):
        m = re.search(r"PID (\d+)", text)
        who = f" (processus {m.group(1)})" if m else ""
        return WarehouseError(
            f"L'entrepôt {path} est ouvert par un autre programme{who}. Les analystes doivent ouvrir "
            "warehouse/ptce_lecture.duckdb, jamais le fichier vivant ; fermez ce programme puis relancez."
        )
    first = text.splitlines()[0][:200] if text else type(exc).__name__
    return WarehouseCorrupt(
        f"L'entrepôt {path} ne peut pas être ouvert ({first}). L'archive et son journal "
        "contiennent tout ce qu'il faut pour le refaire à l'identique : lancez `ptce rebuild` "
        "(l'ancien fichier est conservé à côté)."
    )


def looks_corrupt(exc: Exception) -> bool:
    low = str(exc).lower()
    return any(h in low for h in _CORRUPT_HINTS)


def _connect(path: Path, *, read_only: bool = False):
    import duckdb

    return duckdb.connect(str(path), read_only=read_only, config={"threads": 2})


def connect(path: Path, *, read_only: bool = False, name: Path | None = None):
    """A DuckDB connection; a failure becomes a French `WarehouseError` about `name or path`."""
    import duckdb

    try:
        return _connect(path, read_only=read_only)
    except duckdb.Error as exc:
        raise _classify(exc, name or path) from None


@contextlib.contextmanager
def reader(settings: Settings, *, live: bool = False, snapshot_only: bool = False):
    """A read-only connection: the analysts' snapshot by default (never blocks a run), the
    live file before the first snapshot unless `snapshot_only` (the portal: None then)."""
    path = settings.live_db if live else settings.snapshot_db
    if not path.exists() and not snapshot_only:
        path = settings.live_db
    if not path.exists():
        yield None
        return
    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def cleanup_leftovers(settings: Settings) -> list[Path]:
    """Remove what a crashed run may have left (the .next generation, temporary snapshots)."""
    removed = []
    wh = settings.warehouse_dir
    if not wh.exists():
        return removed
    for pattern in ("ptce.next.duckdb*", ".ptce_lecture.*", "*.duckdb.tmp*"):
        for leftover in wh.glob(pattern):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed.append(leftover)
    return removed


def check_live(settings: Settings) -> None:
    """Open the live warehouse once: detects corruption and replays a pending WAL.

    A WAL next to the live file means a program other than ours wrote into it (our writes go
    through generations); DuckDB's own recovery folds it in with a checkpoint, or fails and
    we point at `ptce rebuild`."""
    if not settings.live_db.exists():
        return
    con = connect(settings.live_db)
    try:
        con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
        if Path(str(settings.live_db) + ".wal").exists():
            con.execute("CHECKPOINT")
    except Exception as exc:
        raise _classify(exc, settings.live_db) from None
    finally:
        con.close()


def latest_version() -> int:
    return max(v for v, _n, _s in _migrations())


def check_openable(settings: Settings) -> bool:
    """Start-up check, without writing anything: the live warehouse (and its WAL, if any) can
    be opened and read. Raises `WarehouseCorrupt` with a message pointing at `rebuild`.
    → whether its schema is older than this version's (the run must then upgrade it)."""
    live = settings.live_db
    if not live.exists():
        return False
    try:
        with open(live, "rb") as fh:
            header = fh.read(12)
    except OSError as exc:
        raise WarehouseError(f"L'entrepôt {live} ne peut pas être lu : {exc.strerror}.") from None
    if len(header) < 12 or header[8:12] != b"DUCK":
        raise _classify(RuntimeError("ce n'est pas un fichier DuckDB valide"), live)
    if Path(str(live) + ".wal").exists():
        check_live(settings)
    con = connect(live, read_only=True)
    try:
        version = schema_version(con)
        con.execute("SELECT count(*) FROM submissions").fetchone()
    except Exception as exc:
        raise _classify(exc, live) from None
    finally:
        con.close()
    return version < latest_version()


class Generation:
    """A writable copy of the live warehouse, swapped in atomically by `commit()`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = settings.warehouse_dir / "ptce.next.duckdb"
        self.con = None

    def open(self):
        s = self.settings
        s.warehouse_dir.mkdir(parents=True, exist_ok=True)
        cleanup_leftovers(s)
        if s.live_db.exists():
            if Path(str(s.live_db) + ".wal").exists():
                check_live(s)
            shutil.copyfile(s.live_db, self.path)
        try:
            self.con = connect(self.path, name=s.live_db)
        except WarehouseError:
            self.abort()
            raise
        try:
            migrate(self.con)
        except Exception as exc:
            self.abort()
            if looks_corrupt(exc):
                raise _classify(exc, s.live_db) from None
            raise WarehouseError(
                f"Mise à jour du schéma de l'entrepôt impossible : {str(exc).splitlines()[0][:200]}"
            ) from None
        return self.con

    def commit(self) -> None:
        con = self.con
        fault_point(self.settings, "before_checkpoint")
        con.execute("CHECKPOINT")
        con.close()
        self.con = None
        fsync_file(self.path)
        fault_point(self.settings, "before_swap")
        os.replace(self.path, self.settings.live_db)
        fsync_dir(self.settings.warehouse_dir)

    def abort(self) -> None:
        if self.con is not None:
            with contextlib.suppress(Exception):
                self.con.close()
            self.con = None
        for p in (self.path, Path(str(self.path) + ".wal")):
            with contextlib.suppress(OSError):
                p.unlink()


def create_empty(settings: Settings) -> None:
    """`init`: create the live warehouse with its schema if it does not exist."""
    if settings.live_db.exists():
        check_live(settings)
        con = connect(settings.live_db)
        try:
            if schema_version(con) < latest_version():
                gen = Generation(settings)
                con.close()
                con = None
                gen.open()
                gen.commit()
        finally:
            if con is not None:
                con.close()
        return
    gen = Generation(settings)
    gen.open()
    gen.commit()


# --------------------------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------------------------
def _bulk_insert(con, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """One statement for many rows (executemany costs about a millisecond a row)."""
    if not rows:
        return
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(columns))
    con.register("_ptce_rows", frame)
    try:
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _ptce_rows")
    finally:
        con.unregister("_ptce_rows")


def load_reference(
    con, ref: Referentiel, registry: Registry, campaigns: Campaigns, at: dt.datetime
) -> None:
    """Replace the reference tables with the catalogue, registry and deadlines in force."""
    known = con.execute(
        "SELECT 1 FROM referentiel_versions WHERE sha256 = ?", [ref.sha256]
    ).fetchone()
    if not known:
        con.execute(
            "INSERT INTO referentiel_versions VALUES (?, ?, ?, ?)",
            [ref.sha256, ref.version, ref.provisional, at],
        )
    current = con.execute("SELECT value FROM meta WHERE key = 'referentiel_sha256'").fetchone()
    if not current or current[0] != ref.sha256:
        con.execute("DELETE FROM ref_objectives")
        con.execute("DELETE FROM ref_indicators")
        con.execute("DELETE FROM ref_criteria")
        rows = [(o.code, "general", None, o.label, i) for i, o in enumerate(ref.general_objectives)]
        rows += [(o.code, "main", o.parent, o.label, i) for i, o in enumerate(ref.main_objectives)]
        con.executemany("INSERT INTO ref_objectives VALUES (?, ?, ?, ?, ?)", rows)
        con.executemany(
            "INSERT INTO ref_indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i.code,
                    i.objective,
                    i.general,
                    i.label,
                    i.help,
                    i.kind,
                    i.unit,
                    i.integer,
                    i.min,
                    i.max,
                    i.required,
                    i.total,
                    n,
                )
                for n, i in enumerate(ref.indicators)
            ],
        )
        con.executemany(
            "INSERT INTO ref_criteria VALUES (?, ?, ?, ?)",
            [(c.code, c.type, c.label, n) for n, c in enumerate(ref.criteria)],
        )
        set_meta(con, "referentiel_sha256", ref.sha256)
    current = con.execute("SELECT value FROM meta WHERE key = 'registry_sha256'").fetchone()
    if not current or current[0] != registry.sha256:
        con.execute("DELETE FROM poles")
        _bulk_insert(
            con,
            "poles",
            ("pole_id", "nom", "departement", "premiere_periode", "derniere_periode"),
            [
                (p.pole_id, p.nom, p.departement, p.premiere_periode, p.derniere_periode)
                for p in registry.poles.values()
            ],
        )
        set_meta(con, "registry_sha256", registry.sha256)
    current = con.execute("SELECT value FROM meta WHERE key = 'campaigns_sha256'").fetchone()
    if not current or current[0] != campaigns.sha256:
        closed = dict(con.execute("SELECT period, closed FROM campaigns").fetchall())
        con.execute("DELETE FROM campaigns WHERE NOT closed")
        for period, deadline in campaigns.deadlines.items():
            if closed.get(period):
                con.execute(
                    "UPDATE campaigns SET deadline = ? WHERE period = ?", [deadline, period]
                )
            else:
                con.execute(
                    "INSERT INTO campaigns (period, deadline) VALUES (?, ?)", [period, deadline]
                )
        set_meta(con, "campaigns_sha256", campaigns.sha256)


def set_meta(con, key: str, value: Any) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, str(value)],
    )


def get_meta(con, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


# --------------------------------------------------------------------------------------------
# Analysts' snapshot and Parquet exports
# --------------------------------------------------------------------------------------------
def _tables(con, schema: str = "main", catalog: str | None = None) -> list[str]:
    sql = "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = ?"
    params: list[Any] = [schema]
    if catalog:
        sql += " AND table_catalog = ?"
        params.append(catalog)
    return sorted(r[0] for r in con.execute(sql, params).fetchall())


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def dump(con, *, exclude: tuple[str, ...] = ("schema_migrations",)) -> dict[str, list[tuple]]:
    """A sorted dump of every table (for logical comparisons in tests and `rebuild`)."""
    out = {}
    for table in _tables(con):
        if table in exclude:
            continue
        rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
        out[table] = sorted(rows, key=lambda r: tuple((x is None, str(x)) for x in r))
    return out


def compare_files(a: Path, b: Path) -> list[str]:
    """Tables whose sorted dumps differ between two warehouse files."""
    ca = connect(a, read_only=True)
    cb = connect(b, read_only=True)
    try:
        da, db = dump(ca), dump(cb)
    finally:
        ca.close()
        cb.close()
    return sorted(t for t in set(da) | set(db) if da.get(t) != db.get(t))


def count_rows(con, *tables: str) -> dict[str, int]:
    return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def checkpoint(con) -> None:
    con.execute("CHECKPOINT")
