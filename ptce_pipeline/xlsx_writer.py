"""Writing .xlsx files byte-for-byte deterministically: fixed zip timestamps and document
dates, so the same workbook always gives the same bytes (templates, annotated copies)."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

FIXED_DATE = dt.datetime(2026, 1, 1, 0, 0, 0)
_ZIP_DATE = (2026, 1, 1, 0, 0, 0)


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose members all carry the same timestamp: byte-identical output."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_DATE)
            zinfo.compress_type = self.compression
            zinfo.external_attr = 0o600 << 16
            zinfo_or_arcname = zinfo
        return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            data = fh.read()
        name = arcname if arcname is not None else os.path.basename(filename)
        return self.writestr(str(name), data, compress_type, compresslevel)


def workbook_bytes(wb, *, modified: dt.datetime = FIXED_DATE) -> bytes:
    """The bytes of an openpyxl Workbook, the same for the same content."""
    from openpyxl.writer.excel import ExcelWriter

    buf = io.BytesIO()
    archive = _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    wb.properties.modified = modified
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


def save_workbook(wb, path: Path, **kwargs) -> None:
    data = workbook_bytes(wb, **kwargs)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
