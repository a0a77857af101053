"""The zip guard: an archive is walked member by member before any parser opens it.

Decompressed bytes are counted while streaming (the sizes the archive declares are never
trusted) against per-member, whole-archive and compression-ratio budgets; member names,
duplicate names and encryption flags are checked, and XML members are refused if they declare
a DTD or an entity or are encoded in UTF-16.
"""

from __future__ import annotations

import io
import re
import zipfile

from ptce_pipeline.config import Limits
from ptce_pipeline.reading.preflight_model import PreflightRefusal

CHUNK = 1 << 20
MIB = 1024 * 1024
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
# Members calamine or openpyxl may parse as XML
XML_SUFFIXES = (".xml", ".rels", ".vml", ".rdf")


def unsafe_name(name: str) -> bool:
    """An absolute path, a drive, a NUL or a `..` step: a name no archive of ours carries."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return True
    return any(p == ".." for p in re.split(r"[\\/]", name))


def mib(n: int) -> str:
    """A size for a French message (\"12 Mo\", \"300 octets\")."""
    return f"{n / MIB:.0f} Mo" if n >= MIB else f"{n} octets"


def open_zip(data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open the archive; refuse too many members, unsafe or duplicate names, encryption."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise PreflightRefusal("corrupt-file", f"archive illisible : {exc}"[:160]) from None
    if len(infos) > limits.max_zip_entries:
        raise PreflightRefusal(
            "too-large", f"{len(infos)} éléments dans l'archive (au plus {limits.max_zip_entries})"
        )
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if unsafe_name(name):
            raise PreflightRefusal("unsafe-archive", f"chemin interdit « {name[:60]} »")
        key = name.replace("\\", "/").casefold()
        if key in seen:
            raise PreflightRefusal("unsafe-archive", f"élément en double « {name[:60]} »")
        seen.add(key)
        if info.flag_bits & 0x1:
            raise PreflightRefusal("encrypted-file")
    return zf, infos


class Budget:
    """Decompressed bytes counted across the whole archive."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0


def read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: Budget,
    *,
    keep: bool,
    xml: bool,
    what: str,
    sheet: str | None = None,
) -> bytes:
    """Stream one member: count its bytes against the caps, refuse DTDs; → its bytes if kept.
    `what` names the member in messages, `sheet` is the sheet it holds, if any."""
    try:
        return _stream(zf, info, budget, keep=keep, xml=xml, what=what)
    except PreflightRefusal as exc:
        exc.sheet = exc.sheet or sheet
        raise


def _stream(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, *, keep: bool, xml: bool, what: str
) -> bytes:
    limits = budget.limits
    chunks: list[bytes] = []
    size = 0
    tail = b""
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                budget.total += len(chunk)
                if size > limits.max_member_bytes:
                    raise PreflightRefusal(
                        "too-large",
                        f"{what} dépasse {mib(limits.max_member_bytes)} une fois décompressé",
                    )
                if budget.total > limits.max_total_bytes:
                    raise PreflightRefusal(
                        "too-large",
                        f"le classeur dépasse {mib(limits.max_total_bytes)} une fois décompressé",
                    )
                if size > 10 * CHUNK and size > limits.max_ratio * max(1, info.compress_size):
                    raise PreflightRefusal("too-large", f"taux de compression anormal ({what})")
                if xml:
                    if not tail and (
                        chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in chunk[:64]
                    ):
                        raise PreflightRefusal("forbidden-xml", f"{what} encodé en UTF-16")
                    # a declaration split between two reads is caught through the tail kept
                    if (b"<!" in chunk or b"<" in tail) and _DTD.search(tail + chunk):
                        raise PreflightRefusal("forbidden-xml", what)
                    tail = chunk[-32:]
                if keep:
                    chunks.append(chunk)
    except PreflightRefusal:
        raise
    except Exception as exc:  # zlib.error, BadZipFile (CRC, header mismatch), EOFError…
        raise PreflightRefusal(
            "corrupt-file", f"élément {info.filename[:60]} illisible : {exc}"[:160]
        ) from None
    return b"".join(chunks)
