"""The analysts' snapshot (`ptce_lecture.duckdb`) and the Parquet files of its views.

The snapshot holds every table of the live warehouse but the personal ones, plus the views.
It is written under a temporary name, checkpointed, fsynced and renamed into place, so an
analyst's open session keeps reading the old file until it reconnects.

Refreshing is incremental when it safely can be: the previous snapshot (which never held
personal data) is copied, then the tables keyed by submission are patched for the submissions
whose row changed, and the small tables are copied again. Anything unexpected (no previous
snapshot, a schema change, row counts that disagree afterwards) falls back to a full copy.
Parquet files are written per view and period, and only for the periods whose data, or the
configuration they depend on, changed since the last export.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path

from ptce_pipeline.config import Settings
from ptce_pipeline.faults import fault_point
from ptce_pipeline.store.durable import fsync_dir, fsync_file
from ptce_pipeline.store.pole_rows import ROW_TABLES
from ptce_pipeline.store.warehouse import connect, views_sql

# personal data: the declarations' contacts, the outbox (addresses) — live warehouse only
PERSONAL_TABLES = ("contacts", "outbox")
SNAPSHOT_VIEWS = (
    "current_indicator_values",
    "current_identity",
    "current_members",
    "current_criteria",
    "completeness",
    "national_indicators",
)
# tables patched submission by submission (every other table is small: copied whole)
KEYED_TABLES = tuple(t for t in ROW_TABLES if t not in PERSONAL_TABLES)
PARQUET_MANIFEST = "_versions.json"
log = logging.getLogger(__name__)


class _FullCopy(Exception):
    """The incremental refresh cannot be trusted: copy everything."""


def _q(path: Path) -> str:
    return str(path).replace("'", "''")


def _columns(con, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_type = 'BASE TABLE') ORDER BY table_name, ordinal_position",
        [catalog, catalog],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def _copy_all(con, tables: list[str]) -> None:
    con.execute("BEGIN")
    for table in tables:
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM src."{table}"')
    con.execute("COMMIT")


def _patch(con, tables: list[str], here: str) -> None:
    """Bring the copied previous snapshot up to date with `src`."""
    if "submissions" not in tables:
        raise _FullCopy
    con.execute("BEGIN")
    con.execute(
        "CREATE TEMP TABLE _changed AS "
        f"SELECT submission_id FROM (SELECT * FROM src.submissions EXCEPT SELECT * FROM {here}.submissions) "
        f"UNION SELECT submission_id FROM (SELECT * FROM {here}.submissions EXCEPT SELECT * FROM src.submissions)"
    )
    for table in tables:
        if table in KEYED_TABLES:
            con.execute(
                f'DELETE FROM {here}."{table}" WHERE submission_id IN (SELECT submission_id FROM _changed)'
            )
            con.execute(
                f'INSERT INTO {here}."{table}" SELECT * FROM src."{table}" '
                "WHERE submission_id IN (SELECT submission_id FROM _changed)"
            )
        else:
            con.execute(f'DROP TABLE {here}."{table}"')
            con.execute(f'CREATE TABLE {here}."{table}" AS SELECT * FROM src."{table}"')
    for table in KEYED_TABLES:
        if table not in tables:
            continue
        mine = con.execute(f'SELECT count(*) FROM {here}."{table}"').fetchone()[0]
        theirs = con.execute(f'SELECT count(*) FROM src."{table}"').fetchone()[0]
        if mine != theirs:
            con.execute("ROLLBACK")
            raise _FullCopy
    con.execute("DROP TABLE _changed")
    con.execute("COMMIT")


def publish_snapshot(settings: Settings, *, full: bool = False) -> Path:
    """Refresh `ptce_lecture.duckdb` and the Parquet files; → the snapshot's path."""

    live, target = settings.live_db, settings.snapshot_db
    tmp = settings.warehouse_dir / f".ptce_lecture.{os.getpid()}.duckdb"

    def clear() -> None:
        for p in (tmp, Path(str(tmp) + ".wal")):
            with contextlib.suppress(OSError):
                p.unlink()

    clear()
    incremental = (
        not full
        and target.exists()
        and not Path(str(target) + ".wal").exists()
        and target.stat().st_size < 2 * live.stat().st_size + 64 * 2**20
    )
    con = None
    try:
        if incremental:
            try:
                shutil.copyfile(target, tmp)
                con = connect(tmp)
                con.execute(f"ATTACH '{_q(live)}' AS src (READ_ONLY)")
                theirs = _columns(con, "src")
                for table in PERSONAL_TABLES:
                    theirs.pop(table, None)
                here = con.execute("SELECT current_database()").fetchone()[0]
                if _columns(con, here) != theirs:
                    raise _FullCopy
                _patch(con, sorted(theirs), '"' + here.replace('"', '""') + '"')
            except Exception as exc:
                if con is not None:
                    con.close()
                    con = None
                clear()
                incremental = False
                log.info("snapshot: full copy (%s)", type(exc).__name__)
        if not incremental:
            con = connect(tmp)
            con.execute(f"ATTACH '{_q(live)}' AS src (READ_ONLY)")
            tables = sorted(t for t in _columns(con, "src") if t not in PERSONAL_TABLES)
            _copy_all(con, tables)
        con.execute("DETACH src")
        con.execute(views_sql())
        log.debug("snapshot: %s", "patched" if incremental else "copied")
        fault_point(settings, "snapshot_before_checkpoint")
        con.execute("CHECKPOINT")
    except BaseException:
        if con is not None:
            con.close()
        clear()
        raise
    con.close()
    fsync_file(tmp)
    fault_point(settings, "snapshot_before_swap")
    os.replace(tmp, target)
    fsync_dir(settings.warehouse_dir)
    export_parquet(settings, full=full)
    return target


# --------------------------------------------------------------------------------------------
def _parquet_keys(con) -> dict[int, list]:
    """What each period's Parquet files depend on: its data version and the configuration."""

    versions = dict(con.execute("SELECT period, version FROM period_versions").fetchall())
    periods = {r[0] for r in con.execute("SELECT DISTINCT period FROM completeness").fetchall()}
    periods |= {p for p in versions if p is not None}
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    shared = [
        meta.get("referentiel_sha256"),
        meta.get("registry_sha256"),
        meta.get("campaigns_sha256"),
        con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0],
        hash_text(views_sql()),
    ]
    closed = dict(con.execute("SELECT period, closed FROM campaigns").fetchall())
    return {p: [versions.get(p, 0), bool(closed.get(p)), *shared] for p in sorted(periods)}


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def export_parquet(settings: Settings, *, full: bool = False) -> list[int]:
    """`parquet/<view>/<period>.parquet` for the periods that changed; → those periods."""

    out = settings.parquet_dir
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / PARQUET_MANIFEST
    try:
        done = {int(k): v for k, v in json.loads(manifest.read_text("utf-8")).items()}
    except (OSError, ValueError):
        done = {}
    con = connect(settings.snapshot_db, read_only=True)
    try:
        keys = _parquet_keys(con)
        todo = [p for p, key in keys.items() if full or done.get(p) != key]
        for view in SNAPSHOT_VIEWS:
            with contextlib.suppress(OSError):
                (out / f"{view}.parquet").unlink()  # the single-file layout of earlier versions
            folder = out / view
            folder.mkdir(exist_ok=True)
            for period in todo:
                target = folder / f"{period}.parquet"
                tmp = folder / f".{period}.parquet.tmp"
                con.execute(
                    f"COPY (SELECT * FROM {view} WHERE period = {int(period)}) "
                    f"TO '{_q(tmp)}' (FORMAT parquet)"
                )
                os.replace(tmp, target)
            for stale in folder.glob("*.parquet"):
                if stale.stem.isdigit() and int(stale.stem) not in keys:
                    stale.unlink()
    finally:
        con.close()
    tmp = out / f".{PARQUET_MANIFEST}.tmp"
    tmp.write_text(json.dumps({str(p): k for p, k in keys.items()}, indent=1), "utf-8")
    os.replace(tmp, manifest)
    return todo
