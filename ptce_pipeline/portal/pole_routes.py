"""A pole's pages: its declarations, its files and their receipts, the template, the upload.
Every handler takes the pole from the session's identity, never from the request."""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
import threading

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ptce_pipeline.catalogue import Contact, load_config
from ptce_pipeline.config import Settings
from ptce_pipeline.feedback import PREPARED_NOTE, PREPARED_WORKBOOK
from ptce_pipeline.orchestration.trigger import request_ingest
from ptce_pipeline.portal import auth
from ptce_pipeline.portal.files import list_retours, read_archived, read_retour
from ptce_pipeline.portal.render import download, message, page
from ptce_pipeline.portal.uploads import StreamingUpload, UploadRefused, place
from ptce_pipeline.store import access as store
from ptce_pipeline.store import pole_space
from ptce_pipeline.template import build_template, workbook_bytes

log = logging.getLogger("ptce.portail")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".xlsx": XLSX,
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": "text/plain; charset=utf-8",
}
MAX_FILES_BODY = 20  # files per upload (see uploads.MAX_FILES)


def media_type(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    return MEDIA.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def space_context(settings: Settings, session: store.Session, pole_id: str, prefix: str) -> dict:
    """What a pole's page shows (for the pole itself, or the national team looking at it)."""
    cfg = load_config(settings)
    pole = cfg.registry.poles.get(pole_id)
    with pole_space.snapshot(settings) as con:
        periods = pole_space.pole_periods(con, pole_id)
        deliveries = pole_space.pole_deliveries(con, pole_id)
    retours = list_retours(settings, pole_id)
    by_delivery: dict[int, list] = {}
    for r in sorted(retours, key=lambda r: (r.kind != "recu", r.name)):
        if r.delivery_id is not None:
            by_delivery.setdefault(r.delivery_id, []).append(r)
    notices: dict[int, list] = {}  # the review notices of each submission, newest first
    for r in retours:
        if r.kind == "relecture":
            notices.setdefault(r.submission_id, []).append(r)
    waiting = _waiting(settings, pole_id)
    period = _campaign_period(cfg, settings)
    contact = cfg.contact or Contact(organisation=cfg.ref.contact)
    names = {r.name for r in retours}
    prepared = PREPARED_WORKBOOK.format(period=period) in names
    note = PREPARED_NOTE.format(period=period)
    return {
        "campaign": {
            "period": period,
            "deadline": cfg.campaigns.deadline(period),
            "prepared": prepared,
            "note": note if prepared and note in names else None,
        },
        "contact": contact,
        "contact_lines": [
            (key, label, value.splitlines(), "".join(c for c in value if c.isdigit() or c == "+"))
            for key, label, value in contact.details()
        ],
        "title": "Espace du pôle" if not session.identity.national else f"Pôle {pole_id}",
        "session": session,
        "pole": {"pole_id": pole_id, "nom": pole.nom if pole else pole_id},
        "periods": periods,
        "deliveries": deliveries,
        "by_delivery": by_delivery,
        "notices": notices,
        "to_fix": [p for p in periods if p["review_state"] == "a_corriger"],
        "fiches": sorted((r for r in retours if r.kind == "fiche"), key=lambda r: -(r.period or 0)),
        "waiting": waiting,
        "prefix": prefix,
        "max_size": f"{settings.limits.max_file_bytes // 1_000_000} Mo",
    }


def _waiting(settings: Settings, pole_id: str) -> list[str]:
    """Files in the pole's folder not yet taken by a run (names only)."""
    from ptce_pipeline import fsafe
    from ptce_pipeline.ingestion.inbox import ignored

    try:
        with fsafe.open_dir(settings.inbox, pole_id) as fd:
            return sorted(
                e.name
                for e in os.scandir(fd)
                if e.is_file(follow_symlinks=False) and not ignored(e.name)
            )
    except (OSError, ValueError):
        return []


def pole_home(settings: Settings, session: store.Session) -> Response:
    return page("pole.html", **space_context(settings, session, session.identity.pole_id, ""))


def serve_retour(settings: Settings, pole_id: str, name: str) -> Response:
    data = read_retour(settings, pole_id, name)
    if data is None:
        return message(
            "Page introuvable", "Ce fichier n'existe pas ou ne vous est pas ouvert.", 404
        )
    return download(data, name, media_type(name), inline=name.endswith(".html"))


def serve_original(settings: Settings, pole_id: str, submission_id: int) -> Response:
    with pole_space.snapshot(settings) as con:
        found = pole_space.archived_file(con, pole_id, submission_id)
    data = read_archived(settings, found[0]) if found else None
    if data is None:
        return message(
            "Page introuvable", "Ce fichier n'existe pas ou ne vous est pas ouvert.", 404
        )
    return download(data, found[1], media_type(found[1]))


def routes(settings: Settings) -> list[Route]:
    def pole_session(request: Request) -> store.Session | None:
        session = auth.session_of(settings, request)
        if session is None or session.identity.national:
            return None
        return session

    def refused() -> Response:
        return message(
            "Accès réservé",
            "Cette page s'ouvre avec le lien personnel reçu de l'équipe nationale.",
            401,
        )

    async def retour(request: Request) -> Response:
        session = pole_session(request)
        if session is None:
            return refused()
        return serve_retour(settings, session.identity.pole_id, request.path_params["name"])

    async def original(request: Request) -> Response:
        session = pole_session(request)
        if session is None:
            return refused()
        return serve_original(settings, session.identity.pole_id, request.path_params["sid"])

    async def template(request: Request) -> Response:
        session = pole_session(request)
        if session is None:
            return refused()
        cfg = load_config(settings)
        pole_id = session.identity.pole_id
        period = _campaign_period(cfg, settings)
        name = f"suivi_{pole_id}_{period}.xlsx"
        # the workbook `ptce campaign prepare` pre-filled for the open campaign, else the plain one
        prepared = read_retour(settings, pole_id, PREPARED_WORKBOOK.format(period=period))
        if prepared is not None:
            return download(prepared, name, XLSX)
        wb = build_template(
            cfg.ref,
            pole=cfg.registry.poles.get(pole_id),
            period=period,
            deadline=cfg.campaigns.deadline(period),
        )
        return download(workbook_bytes(wb), name, XLSX)

    async def upload(request: Request) -> Response:
        session = pole_session(request)
        if session is None:
            return refused()
        return await receive_upload(settings, session, request)

    return [
        Route("/retours/{name}", retour),
        Route("/originaux/{sid:int}", original),
        Route("/modele", template),
        Route("/depot", upload, methods=["POST"]),
    ]


def _ask_for_a_run(settings: Settings) -> None:
    if request_ingest(settings):
        log.info("ingestion demandée à ptce serve")
    else:
        log.info("pas de ptce serve joignable : le fichier attend le prochain passage")


def _campaign_period(cfg, settings: Settings) -> int:
    """The campaign a pole fills now: the latest period of campagnes.csv, else last year."""
    known = list(cfg.campaigns.deadlines)
    return max(known) if known else settings.clock().year - 1


async def receive_upload(settings: Settings, session: store.Session, request: Request) -> Response:
    limit = settings.limits.max_file_bytes
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data") or "boundary=" not in ctype:
        return message(
            "Envoi refusé", "Envoyez le fichier depuis le formulaire de la page.", 400, session
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit * MAX_FILES_BODY + 65536:
        return message(
            "Envoi trop volumineux",
            f"L'envoi dépasse la taille maximale acceptée ({limit // 1_000_000} Mo par fichier) : "
            "il n'a pas été reçu.",
            413,
            session,
        )
    boundary = ctype.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode("latin-1")

    checked = {"ok": False}

    def check_field(name, value):
        if name is None:  # a file part begins: the token must have come first
            if not checked["ok"]:
                raise UploadRefused("Rechargez la page et recommencez l'envoi.", 403)
        elif name == "csrf":
            checked["ok"] = auth.csrf_ok(session, value)

    stream = StreamingUpload(
        settings.portal_dir, boundary, max_file_bytes=limit, check_field=check_field
    )
    try:
        async for chunk in request.stream():
            stream.feed(chunk)
        received = stream.finish()
    except UploadRefused as exc:
        return message("Envoi refusé", str(exc), exc.status, session)
    finally:
        if stream.state.fd is not None:
            stream.abort()
    stored, empty = [], []
    for n, item in enumerate(received):
        if item.size == 0:
            os.unlink(stream.area / item.tmp)
            empty.append(item.original_name)
            continue
        try:
            place(settings.home, settings.portal_dir, session.identity.pole_id, item)
            store.record_upload(
                settings.portal_dir,
                pole_id=session.identity.pole_id,
                name=item.stored_as,
                ino=item.ino,
                size=item.size,
                mtime_ns=item.mtime_ns,
                sha256=item.sha256,
                access_id=session.identity.access_id,
                now=settings.clock(),
            )
        except OSError as exc:  # the pole's folder is a link, a file…: said, nothing lost
            log.error("dépôt impossible dans le dossier de %s : %s", session.identity.pole_id, exc)
            for rest in received[n:]:
                with contextlib.suppress(OSError):
                    os.unlink(stream.area / rest.tmp)
            done = "" if not stored else f" ({len(stored)} fichier(s) reçu(s) avant l'incident.)"
            return message(
                "Envoi non enregistré",
                "Le dossier de dépôt de votre pôle n'est pas utilisable pour l'instant : "
                "prévenez l'équipe nationale." + done,
                503,
                session,
            )
        stored.append(item)
    if stored:  # a running `ptce serve` ingests now rather than at its next schedule
        threading.Thread(target=_ask_for_a_run, args=(settings,), daemon=True).start()
    return page(
        "depot.html",
        title="Fichiers reçus",
        session=session,
        stored=stored,
        empty=empty,
    )
