"""What the warehouse files say about themselves at start-up: whether the live warehouse reads
back, which journal position the warehouse and the analysts' snapshot reflect, and which
submissions wait for another try."""

from __future__ import annotations

from ptce_pipeline.config import Settings
from ptce_pipeline.errors import WarehouseCorrupt, WarehouseError
from ptce_pipeline.store.warehouse import connect

APPLIED_FILE = "journal_applied"


def applied_seq(settings: Settings) -> int:
    """The journal position the live warehouse reflects (-1: unknown)."""
    try:
        return int((settings.warehouse_dir / APPLIED_FILE).read_text().strip() or 0)
    except (OSError, ValueError):
        return -1


def write_applied(settings: Settings, seq: int) -> None:
    path = settings.warehouse_dir / APPLIED_FILE
    tmp = path.with_name(f".{APPLIED_FILE}.tmp")
    tmp.write_text(str(seq))
    tmp.replace(path)


def snapshot_state(settings: Settings) -> tuple[list[int], int | None]:
    """From the analysts' snapshot: the submissions waiting for another try (our own earlier
    failure) and the journal position it reflects (None: no usable snapshot)."""
    if not settings.snapshot_db.exists():
        return [], None
    try:
        con = connect(settings.snapshot_db, read_only=True)
    except Exception:
        return [], None
    try:
        waiting = [
            r[0]
            for r in con.execute(
                "SELECT submission_id FROM submissions WHERE status = 'en_attente'"
            ).fetchall()
        ]
        row = con.execute("SELECT value FROM meta WHERE key = 'journal_seq'").fetchone()
        return waiting, int(row[0]) if row else 0
    except Exception:
        return [], None
    finally:
        con.close()


def verify_live(settings: Settings) -> None:
    """Start-up check, after `warehouse.check_openable` (header, WAL replay, schema): every
    table read once, read-only (a few ms), so a damaged data block (bit rot, a torn copy)
    stops the run before anything is claimed, with a French message pointing to
    `ptce rebuild`, instead of being copied into the next generation."""
    if not settings.live_db.exists():
        return
    try:
        con = connect(settings.live_db, read_only=True)
    except WarehouseCorrupt:
        raise
    except WarehouseError:  # held by another program: Generation.open says so if it matters
        return
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema = 'main'"
            ).fetchall()
        ]
        for table in tables:
            con.execute(f'SELECT count(*), max(hash("{table}")) FROM "{table}"').fetchall()
    except Exception as exc:
        raise WarehouseCorrupt(
            f"L'entrepôt {settings.live_db} est endommagé "
            f"({str(exc).splitlines()[0][:160]}). Rien n'a été traité ; il se reconstruit à "
            "l'identique depuis l'archive et son journal : `ptce rebuild`."
        ) from None
    finally:
        con.close()
