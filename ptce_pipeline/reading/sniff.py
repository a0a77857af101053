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


_OTHER_MAGICS = (
    (b"%PDF", "c'est un document PDF"),
    (b"\x89PNG", "c'est une image"),
    (b"\xff\xd8\xff", "c'est une image"),
    (b"GIF8", "c'est une image"),
    (b"\x1f\x8b", "c'est une archive compressée (gzip)"),
    (b"7z\xbc\xaf\x27\x1c", "c'est une archive compressée (7-Zip)"),
    (b"Rar!", "c'est une archive compressée (RAR)"),
    (b"{\\rtf", "c'est un document texte (RTF)"),
)


def cfb_streams(data: bytes, limit: int = 4096) -> set[str] | None:
    """Names in the directory of a Compound File (OLE2: .xls, .doc, encrypted OOXML…), read
    from the header's first 109 FAT sectors; None if the structure cannot be followed."""
    try:
        shift = int.from_bytes(data[30:32], "little")
        if shift not in (9, 12):
            return None
        size = 1 << shift
        fat_sectors = [
            int.from_bytes(data[76 + 4 * i : 80 + 4 * i], "little")
            for i in range(min(109, int.from_bytes(data[44:48], "little")))
        ]
        fat: list[int] = []
        for sector in fat_sectors:
            start = (sector + 1) * size
            block = data[start : start + size]
            fat.extend(int.from_bytes(block[i : i + 4], "little") for i in range(0, len(block), 4))
        names: set[str] = set()
        sector = int.from_bytes(data[48:52], "little")
        for _ in range(limit):
            if sector >= 0xFFFFFFFA or sector >= len(fat):
                break
            start = (sector + 1) * size
            block = data[start : start + size]
            for off in range(0, len(block) - 127, 128):
                length = int.from_bytes(block[off + 64 : off + 66], "little")
                if 2 <= length <= 64:
                    names.add(block[off : off + length - 2].decode("utf-16-le", "replace"))
            sector = fat[sector]
        return names
    except (ValueError, IndexError):
        return None


def _sniff_cfb(data: bytes) -> Sniffed:
    names = cfb_streams(data)
    if names is None:  # cannot follow the directory: look for the stream names anywhere
        names = {
            n
            for n in ("EncryptionInfo", "EncryptedPackage", "Workbook", "Book", "WordDocument")
            if n.encode("utf-16-le") in data
        }
    if {"EncryptionInfo", "EncryptedPackage"} & names:
        return Sniffed("refused", "encrypted-file")
    if {"Workbook", "Book"} & names:
        return Sniffed("refused", "legacy-xls")
    if "WordDocument" in names:
        return Sniffed("refused", "not-a-workbook", "c'est un document Word ancien (.doc)")
    if "PowerPoint Document" in names:
        return Sniffed("refused", "not-a-workbook", "c'est une présentation PowerPoint (.ppt)")
    return Sniffed("refused", "not-a-workbook", "document Office ancien, pas un classeur")


def _looks_like_csv(text: str) -> bool:
    """A separator on the first line, and as many on the second when there is one (a comma
    alone on a single line is just a sentence)."""
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()][:2]
    if not lines:
        return False
    for sep in (";", "\t", ","):
        n = lines[0].count(sep)
        if n and (lines[1].count(sep) == n if len(lines) > 1 else sep != ","):
            return True
    return False


def sniff(data: bytes) -> Sniffed:
    if not data:
        return Sniffed("refused", "empty-file")
    head = data[:8]
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(data)
    if head == CFB_MAGIC:
        return _sniff_cfb(data)
    for magic, what in _OTHER_MAGICS:
        if data.startswith(magic):
            return Sniffed("refused", "not-a-workbook", what)
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
        if low.startswith("<?xml") and "opendocument.spreadsheet" in low:
            return Sniffed("refused", "not-a-workbook", "classeur OpenDocument « à plat » (.fods)")
        if low.startswith("<?xml") or low.startswith("<"):
            return Sniffed("refused", "not-a-workbook", "c'est un fichier XML")
        if _looks_like_csv(text):
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
        if any(n.lower() == "xl/workbook.xml" for n in names) and any(
            n.lower().endswith("vbaproject.bin") for n in names
        ):
            return Sniffed("xlsm")
        if "xl/workbook.xml" in name_set or any(n.lower() == "xl/workbook.xml" for n in names):
            if "xl/vbaProject.bin" in name_set:
                return Sniffed("xlsm")
            return Sniffed("xlsx")
        return Sniffed(
            "refused", "corrupt-file", "le classeur n'a pas de feuille de classeur (workbook.xml)"
        )
    if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
        return Sniffed(
            "refused", "not-a-workbook", "c'est un document Numbers (Apple), pas un classeur"
        )
    return Sniffed("refused", "not-a-workbook", "archive ZIP qui n'est pas un classeur")
