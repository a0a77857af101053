"""Workbooks that cost much more than their size (hostile files of bounded cost), and the
peak memory of a process tree, read from /proc."""

from __future__ import annotations

import io
import os
import re
import threading
import time
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
MAX_ROWS, MAX_COLS = 20_000, 200  # the per-sheet caps (Limits): every hostile sheet is inside


def ods_repeated_sheets(sheets: int = 3, base: str = "check_refusee.ods") -> bytes:
    """A refused .ods (its validation fails) with `sheets` extra sheets, each one row of
    values repeated to the row cap and one value repeated to the column cap: ~50 KB."""
    cell = (
        f'<table:table-cell office:value-type="float" office:value="7" '
        f'table:number-columns-repeated="{MAX_COLS}"><text:p>7</text:p></table:table-cell>'
    )
    extra = "".join(
        f'<table:table table:name="Annexe{i}"><table:table-row '
        f'table:number-rows-repeated="{MAX_ROWS}">{cell}</table:table-row></table:table>'
        for i in range(sheets)
    ).encode()
    return _rezip(
        (DATA / base).read_bytes(),
        {
            "content.xml": lambda b: b.replace(
                b"</office:spreadsheet>", extra + b"</office:spreadsheet>", 1
            )
        },
    )


def xlsx_shared_part(template: bytes, entries: int = 20, rows: int = 15_000) -> bytes:
    """The template with `entries` extra sheet entries all naming one worksheet part of
    `rows` × 10 values (inside every cap): under a megabyte, parsed once per entry."""
    row = "".join(f'<c r="{c}{{r}}"><v>{n}</v></c>' for n, c in enumerate("ABCDEFGHIJ"))
    body = "".join(f'<row r="{r}">{row.format(r=r)}</row>' for r in range(1, rows + 1))
    part = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()
    rels_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheets = "".join(
        f'<sheet name="Copie{i}" sheetId="{100 + i}" r:id="rIdCopie{i}"/>' for i in range(entries)
    ).encode()
    rels = "".join(
        f'<Relationship Id="rIdCopie{i}" Type="{rels_ns}/worksheet" '
        'Target="worksheets/partagee.xml"/>'
        for i in range(entries)
    ).encode()
    types = (
        b'<Override PartName="/xl/worksheets/partagee.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    )
    return _rezip(
        template,
        {
            "xl/workbook.xml": lambda b: b.replace(b"</sheets>", sheets + b"</sheets>", 1),
            "xl/_rels/workbook.xml.rels": lambda b: b.replace(
                b"</Relationships>", rels + b"</Relationships>", 1
            ),
            "[Content_Types].xml": lambda b: b.replace(b"</Types>", types + b"</Types>", 1),
        },
        {"xl/worksheets/partagee.xml": part},
    )


def _rezip(data: bytes, edits: dict, add: dict | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename in edits:
                blob = edits[info.filename](blob)
                assert blob != src.read(info), info.filename
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            dst.writestr(info.filename, blob, method)
        for name, blob in (add or {}).items():
            dst.writestr(name, blob)
    return out.getvalue()


# --- peak memory of a process tree -----------------------------------------------------------
class Peaks:
    """The high-water mark (VmHWM) of every process of one session, polled from /proc while the
    command runs: the CLI, its forkserver, its readers and its annotating child."""

    def __init__(self, session: int):
        self.session = session
        self.by_pid: dict[int, tuple[str, int]] = {}  # pid → (name, kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.02)

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[3]) != self.session:  # the session id
                    continue
                status = Path(f"/proc/{entry.name}/status").read_text()
            except (OSError, IndexError, ValueError):
                continue
            hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            name = stat.split("(", 1)[1].rsplit(")", 1)[0]
            if hwm:
                pid = int(entry.name)
                kb = max(int(hwm.group(1)), self.by_pid.get(pid, ("", 0))[1])
                self.by_pid[pid] = (name, kb)

    def stop(self) -> int:
        """→ the largest peak, in MB."""
        self._stop.set()
        self._thread.join()
        return max((kb for _n, kb in self.by_pid.values()), default=0) // 1024
