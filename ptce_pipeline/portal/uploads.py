"""Uploads: each file of a multipart body is streamed (python-multipart's push parser, never
the whole body in memory nor a temporary file without bound) into `<home>/portal/uploads/`,
a folder of the home on the same file system as the inbox, then linked into
`inbox/<pole_id>/` under a name no other file holds (never overwriting) and removed from the
upload area. A crash or a cancelled upload leaves nothing in the inbox: only a `.part` file in
the upload area, swept at the portal's next start."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from ptce_pipeline import fsafe
from ptce_pipeline.ingestion.inbox import ignored

UPLOAD_DIR = "uploads"
PART_SUFFIX = ".part"
MAX_FILES = 20  # per request
MAX_FIELD = 256  # bytes of a text field (the CSRF token)
FILE_FIELD = "fichiers"


class UploadRefused(Exception):
    """The upload stops here; `str()` is the French message for the pole, `status` the HTTP
    status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Received:
    original_name: str
    tmp: str  # name in the upload area
    size: int = 0
    sha256: str = ""
    stored_as: str | None = None  # name in the inbox, once linked
    ino: int = 0  # its inode and mtime there, recorded for ingestion
    mtime_ns: int = 0


@dataclass
class _State:
    headers: dict[str, bytes] = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    field_name: str | None = None
    field_value: bytearray = field(default_factory=bytearray)
    current: Received | None = None
    fd: int | None = None
    hash: object | None = None
    fields: dict[str, str] = field(default_factory=dict)
    files: list[Received] = field(default_factory=list)


def upload_area(portal_dir: Path) -> Path:
    path = portal_dir / UPLOAD_DIR
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def sweep(portal_dir: Path) -> int:
    """Remove what an interrupted upload left in the upload area (at the portal's start)."""
    removed = 0
    for entry in os.scandir(upload_area(portal_dir)):
        if entry.name.endswith(PART_SUFFIX) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


class StreamingUpload:
    """Feed the body's chunks with `feed`, then `finish`. `check_field(name, value)` is called
    for each text field as it completes (the CSRF token comes before the files in our form: a
    file part met before a valid token stops the upload)."""

    def __init__(self, portal_dir: Path, boundary: bytes, *, max_file_bytes: int, check_field):
        self.area = upload_area(portal_dir)
        self.max_file_bytes = max_file_bytes
        self.check_field = check_field
        self.state = _State()
        self.error: UploadRefused | None = None
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
            max_header_count=8,
            max_header_size=4224,
        )

    # -- the parser's callbacks (exceptions raised here stop the parse) --------------------
    def _part_begin(self) -> None:
        s = self.state
        s.headers, s.field_name, s.field_value, s.current = {}, None, bytearray(), None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.state.header_field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.state.header_value += data[start:end]

    def _header_end(self) -> None:
        s = self.state
        s.headers[s.header_field.decode("latin-1").lower()] = s.header_value
        s.header_field, s.header_value = b"", b""

    def _headers_finished(self) -> None:
        s = self.state
        _, options = parse_options_header(s.headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            s.field_name = name
            return
        if name != FILE_FIELD:
            raise UploadRefused("Formulaire inattendu : rechargez la page et recommencez.")
        self.check_field(None, None)  # a file part: the token must already be checked
        if not filename:
            return  # the form sent with no file chosen
        if len(s.files) >= MAX_FILES:
            raise UploadRefused(
                f"Au plus {MAX_FILES} fichiers par envoi : envoyez les autres ensuite.", 413
            )
        tmp = f".{secrets.token_hex(16)}{PART_SUFFIX}"
        fd = os.open(
            self.area / tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
        s.current = Received(_display(filename), tmp)
        s.fd, s.hash = fd, hashlib.sha256()
        s.files.append(s.current)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        s = self.state
        chunk = data[start:end]
        if s.current is not None and s.fd is not None:
            s.current.size += len(chunk)
            if s.current.size > self.max_file_bytes:
                raise UploadRefused(
                    f"« {s.current.original_name} » dépasse la taille maximale acceptée "
                    f"({_mo(self.max_file_bytes)}) : l'envoi est arrêté. Un classeur de suivi "
                    "pèse d'ordinaire moins d'un Mo ; retirez les images ou objets ajoutés.",
                    413,
                )
            view = memoryview(chunk)
            while view:
                view = view[os.write(s.fd, view) :]
            s.hash.update(chunk)
        elif s.field_name is not None:
            s.field_value += chunk
            if len(s.field_value) > MAX_FIELD:
                raise UploadRefused("Formulaire inattendu : rechargez la page et recommencez.")

    def _part_end(self) -> None:
        s = self.state
        if s.current is not None and s.fd is not None:
            os.fsync(s.fd)
            os.close(s.fd)
            s.current.sha256 = s.hash.hexdigest()
            s.fd, s.current = None, None
        elif s.field_name is not None:
            value = s.field_value.decode("utf-8", "replace")
            s.fields[s.field_name] = value
            self.check_field(s.field_name, value)
            s.field_name = None

    # -- driving ----------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except UploadRefused:
            self.abort()
            raise
        except Exception as exc:  # a malformed body
            self.abort()
            raise UploadRefused("L'envoi est arrivé incomplet ou mal formé : recommencez.") from exc

    def finish(self) -> list[Received]:
        try:
            self.parser.finalize()
        except Exception as exc:
            self.abort()
            raise UploadRefused("L'envoi est arrivé incomplet : recommencez.") from exc
        if self.state.fd is not None:
            self.abort()
            raise UploadRefused("L'envoi est arrivé incomplet : recommencez.")
        return self.state.files

    def abort(self) -> None:
        """Remove every temporary file of this upload (a stopped or cancelled upload)."""
        s = self.state
        if s.fd is not None:
            with contextlib.suppress(OSError):
                os.close(s.fd)
            s.fd = None
        for r in s.files:
            with contextlib.suppress(OSError):
                os.unlink(self.area / r.tmp)
        s.files = []


def _mo(n: int) -> str:
    return f"{n / 1_000_000:.0f} Mo" if n >= 1_000_000 else f"{n} octets"


def _display(raw: bytes) -> str:
    """The name the pole's browser sent, as text (the last path component, never a path)."""
    text = raw.decode("utf-8", "replace")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return unicodedata.normalize("NFC", text).strip()[:200] or "classeur"


def inbox_name(original: str) -> str:
    """The name a portal upload gets in the inbox: the pole's own name when it is a plain
    name the inbox takes (not one of the ignored names of docs/conventions.md), else a neutral
    one keeping its extension."""
    name = original.replace("\0", "").strip()
    stem, ext = os.path.splitext(name)
    if not re.fullmatch(r"\.[A-Za-z0-9]{1,8}", ext or "."):
        ext = ""
    stem = stem.strip(" .") or "classeur"
    name = f"{stem[:120]}{ext}"
    if ignored(name) or name.startswith("~"):
        name = f"depot_{stem.lstrip('.~$')[:120] or 'classeur'}{ext}"
        if ignored(name):
            name += ".fichier"
    return name


def place(home: Path, portal_dir: Path, pole_id: str, item: Received) -> str:
    """Link the finished upload into `inbox/<pole_id>/` under a free name (`nom.xlsx`, then
    `nom (2).xlsx`…), never overwriting, never through a link; then remove it from the upload
    area. Returns the name it got."""
    area = upload_area(portal_dir)
    base = inbox_name(item.original_name)
    stem, ext = os.path.splitext(base)
    with fsafe.open_dir(home, "inbox", pole_id, create=True) as dir_fd:
        area_fd = os.open(area, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for n in range(1, 1000):
                name = base if n == 1 else f"{stem} ({n}){ext}"
                try:
                    os.link(
                        item.tmp, name, src_dir_fd=area_fd, dst_dir_fd=dir_fd, follow_symlinks=False
                    )
                except FileExistsError:
                    continue
                os.unlink(item.tmp, dir_fd=area_fd)
                with contextlib.suppress(OSError):
                    os.fsync(dir_fd)
                item.stored_as = name
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                item.ino, item.mtime_ns = st.st_ino, st.st_mtime_ns
                return name
        finally:
            os.close(area_fd)
    raise OSError(errno.EEXIST, "aucun nom libre dans le dossier du pôle")
