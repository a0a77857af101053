"""What a received file really is, from its bytes (never from its name)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True)
class Sniffed:
    format: str  # xlsx | xlsm | ods | refused
    code: str | None = None  # issue code when refused
    detail: str = ""


def _text_like(head: bytes) -> str | None:
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = head.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - latin-1 decodes everything
        return None
    if "\x00" in text:
        return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if printable >= 0.95 * max(1, len(text)) else None


def sniff(data: bytes) -> Sniffed:
    if not data:
        return Sniffed("refused", "empty-file")
    head = data[:8]
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(data)
    if head == CFB_MAGIC:
        if (
            "EncryptionInfo".encode("utf-16-le") in data
            or "EncryptedPackage".encode("utf-16-le") in data
        ):
            return Sniffed("refused", "encrypted-file")
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return Sniffed("refused", "legacy-xls")
        return Sniffed("refused", "not-a-workbook", "document Office ancien, pas un classeur")
    if data.startswith(b"%PDF"):
        return Sniffed("refused", "not-a-workbook", "c'est un document PDF")
    if data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8\xff") or data.startswith(b"GIF8"):
        return Sniffed("refused", "not-a-workbook", "c'est une image")
    text = _text_like(data[:4096])
    if text is not None:
        low = text.lstrip("\ufeff \r\n\t").lower()
        if (
            low.startswith(("<html", "<!doctype html", "<table", "<meta", "<head", "<body"))
            or "<html" in low[:512]
        ):
            return Sniffed(
                "refused", "not-a-workbook", "c'est une page web (export HTML), pas un classeur"
            )
        if low.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in low:
            return Sniffed("refused", "not-a-workbook", "format « Feuille de calcul XML 2003 »")
        if low.startswith("<?xml") or low.startswith("<"):
            return Sniffed("refused", "not-a-workbook", "c'est un fichier XML")
        first = text.splitlines()[0] if text.splitlines() else ""
        if ";" in first or "," in first or "\t" in first:
            return Sniffed("refused", "csv-file")
        return Sniffed("refused", "not-a-workbook", "c'est un fichier texte")
    return Sniffed("refused", "not-a-workbook", "format de fichier non reconnu")


def _sniff_zip(data: bytes) -> Sniffed:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return Sniffed("refused", "corrupt-file", f"archive illisible : {exc}"[:120])
    name_set = set(names)
    if "mimetype" in name_set:
        try:
            info = zf.getinfo("mimetype")
            mimetype = zf.read("mimetype")[:200].strip() if info.file_size < 1024 else b""
        except Exception:
            mimetype = b""
        if mimetype == ODS_MIMETYPE:
            return Sniffed("ods")
        if mimetype.startswith(b"application/vnd.oasis.opendocument"):
            return Sniffed(
                "refused",
                "not-a-workbook",
                "document OpenDocument qui n'est pas un classeur (.ods attendu)",
            )
    if "[Content_Types].xml" in name_set:
        if "xl/workbook.bin" in name_set:
            return Sniffed("refused", "xlsb-format")
        if any(n.startswith("word/") for n in names):
            return Sniffed("refused", "not-a-workbook", "c'est un document texte Word")
        if any(n.startswith("ppt/") for n in names):
            return Sniffed("refused", "not-a-workbook", "c'est une présentation PowerPoint")
        if "xl/workbook.xml" in name_set or any(n.lower() == "xl/workbook.xml" for n in names):
            if "xl/vbaProject.bin" in name_set:
                return Sniffed("xlsm")
            return Sniffed("xlsx")
        return Sniffed(
            "refused", "corrupt-file", "le classeur n'a pas de feuille de classeur (workbook.xml)"
        )
    return Sniffed("refused", "not-a-workbook", "archive ZIP qui n'est pas un classeur")
