"""Hostile and messy files, built with zipfile and hand-written XML where openpyxl cannot make
them. Most start from the real filled template and change one part, so that what is refused is
the hostile feature and nothing else."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

GIB = 1 << 30
SHEET_FILES = {  # where the template writer puts each sheet
    "Lisez-moi": "xl/worksheets/sheet1.xml",
    "Identité": "xl/worksheets/sheet2.xml",
    "Membres": "xl/worksheets/sheet3.xml",
    "Indicateurs": "xl/worksheets/sheet4.xml",
    "Critères": "xl/worksheets/sheet5.xml",
    "Listes": "xl/worksheets/sheet6.xml",
    "_ptce": "xl/worksheets/sheet7.xml",
}
LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%s;" % (str(i - 1).encode() if i > 1 else b"")) * 10)
        for i in range(1, 10)
    )
    + b"]>"
)
XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

Edit = bytes | Callable[[bytes], bytes] | None


def patch(data: bytes, edits: dict[str, Edit] | None = None, add: dict[str, bytes] | None = None):
    """Copy an xlsx/ods, replacing (bytes or function of the old bytes) or removing (None)
    members, and adding new ones."""
    edits = edits or {}
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in edits:
                edit = edits[info.filename]
                if edit is None:
                    continue
                blob = edit(src.read(info)) if callable(edit) else edit
            else:
                blob = src.read(info)
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            dst.writestr(info.filename, blob, method)
        for name, blob in (add or {}).items():
            dst.writestr(name, blob)
    return out.getvalue()


def replace_once(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def edit(blob: bytes) -> bytes:
        assert old in blob, old
        return blob.replace(old, new, 1)

    return edit


def add_rows(rows_xml: bytes) -> Callable[[bytes], bytes]:
    """Append rows at the end of a sheet's data."""
    return replace_once(b"</sheetData>", rows_xml + b"</sheetData>")


def with_prolog(prolog: bytes, body_edit: Callable[[bytes], bytes] | None = None):
    """Insert a DOCTYPE after the XML declaration (or at the start)."""

    def edit(blob: bytes) -> bytes:
        if body_edit is not None:
            blob = body_edit(blob)
        if blob.startswith(b"<?xml"):
            end = blob.index(b"?>") + 2
            return blob[:end] + prolog + blob[end:]
        return prolog + blob

    return edit


def sheet_cells(data: bytes, sheet: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(SHEET_FILES[sheet])


# --- bombs ------------------------------------------------------------------------------------
def zip_bomb(template: bytes, target: Path, inflated: int = GIB) -> Path:
    """The template whose Indicateurs sheet inflates to `inflated` bytes: the same value cell
    repeated (a parser that keeps every cell needs several times that in memory), deflated to
    about a thousandth of it. Written by streaming, never held in memory."""
    src = zipfile.ZipFile(io.BytesIO(template))
    sheet = src.read(SHEET_FILES["Indicateurs"])
    head, tail = sheet.split(b"</sheetData>")
    cell = b'<c r="A1"><v>1</v></c>'
    block = cell * ((1 << 20) // len(cell))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst:
        for info in src.infolist():
            if info.filename != SHEET_FILES["Indicateurs"]:
                dst.writestr(info.filename, src.read(info))
                continue
            with dst.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(head + b'<row r="1048000">')
                written = len(head)
                while written < inflated:
                    fh.write(block)
                    written += len(block)
                fh.write(b"</row></sheetData>" + tail)
    return target


def many_members(template: bytes, count: int) -> bytes:
    extra = {f"customXml/item{i}.xml": b"" for i in range(count)}
    return patch(template, add=extra)


def shared_strings_bomb(template: bytes, size: int) -> bytes:
    """A sharedStrings part of `size` bytes of distinct strings (openpyxl would load it all)."""
    parts = [
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ]
    n = 0
    total = len(parts[0])
    while total < size:
        chunk = b"".join(b"<si><t>valeur %d</t></si>" % (n + i) for i in range(10000))
        parts.append(chunk)
        total += len(chunk)
        n += 10000
    parts.append(b"</sst>")
    blob = b"".join(parts)
    ct = replace_once(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    return patch(template, {"[Content_Types].xml": ct}, add={"xl/sharedStrings.xml": blob})


def raw_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return out.getvalue()


def unsafe_names(template: bytes, name: str) -> bytes:
    """A member with a hostile path (zipfile would normalise it on write: patch the bytes)."""
    safe = "x" * len(name)
    data = patch(template, add={safe: b"<x/>"})
    return data.replace(safe.encode(), name.encode())


def encrypt(data: bytes, password: str = "motdepasse") -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def set_cell(sheet_xml: bytes, ref: str, inner: bytes, attrs: bytes = b"") -> bytes:
    """Replace the cell `ref` (which must exist) with `<c r=ref attrs>inner</c>`."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
    new = b'<c r="' + ref.encode() + b'"' + attrs + b">" + inner + b"</c>"
    out, n = pattern.subn(lambda _m: new, sheet_xml, count=1)
    assert n == 1, ref
    return out
