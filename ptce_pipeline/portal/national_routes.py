"""The national team's pages: completeness live, each pole's space, the internal publication.
Only a national-team session opens them; creating and revoking access stays on the command
line."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ptce_pipeline.catalogue import load_registry, vocabulary
from ptce_pipeline.config import Settings
from ptce_pipeline.portal import auth
from ptce_pipeline.portal.files import read_archived
from ptce_pipeline.portal.pole_routes import media_type, serve_original, serve_retour, space_context
from ptce_pipeline.portal.render import download, message, page, secure
from ptce_pipeline.store import pole_space
from ptce_pipeline.store.review import review_counts

PUBLICATION_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def national_routes(settings: Settings) -> list[Route]:
    def national(request: Request):
        session = auth.session_of(settings, request)
        return session if session is not None and session.identity.national else None

    def refused() -> Response:
        return message(
            "Accès réservé",
            "Cette page est réservée à l'équipe nationale.",
            401,
        )

    def registered(pole_id: str) -> bool:
        return pole_id in load_registry(settings.registry_path).poles

    async def overview(request: Request) -> Response:
        session = national(request)
        if session is None:
            return refused()
        wanted = request.query_params.get("periode", "")
        with pole_space.snapshot(settings) as con:
            all_periods = pole_space.periods(con)
            period = int(wanted) if wanted.isdigit() and int(wanted) in all_periods else None
            period, rows = pole_space.national_completeness(con, period)
            reviews = review_counts(con, period) if period is not None else {}
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return page(
            "national.html",
            title=f"Campagne {period}" if period else "Campagne",
            session=session,
            period=period,
            all_periods=all_periods,
            rows=rows,
            counts=[f"{n} {vocabulary.label(k)}" for k, n in counts.items()],
            late=sum(1 for r in rows if r["late"]),
            reviews=[(k, n, vocabulary.label(k)) for k, n in sorted(reviews.items())],
        )

    async def pole(request: Request) -> Response:
        session = national(request)
        pole_id = request.path_params["pole_id"]
        if session is None:
            return refused()
        if not registered(pole_id):
            return message("Page introuvable", "Ce pôle n'est pas inscrit.", 404, session)
        return page(
            "pole.html",
            **space_context(settings, session, pole_id, f"/national/poles/{pole_id}"),
        )

    def pole_file(serve):
        async def handler(request: Request) -> Response:
            session = national(request)
            if session is None:
                return refused()
            pole_id = request.path_params["pole_id"]
            if not registered(pole_id):
                return message("Page introuvable", "Ce pôle n'est pas inscrit.", 404, session)
            key = "name" if "name" in request.path_params else "sid"
            return serve(settings, pole_id, request.path_params[key])

        return handler

    async def publication(request: Request) -> Response:
        session = national(request)
        if session is None:
            return refused()
        data = _publication_file(
            settings, request.path_params["period"], request.path_params.get("path", "")
        )
        if data is None:
            return message(
                "Page introuvable", "Cette page de la publication n'existe pas.", 404, session
            )
        body, name = data

        response = download(body, name, media_type(name), inline=True)
        del response.headers["Content-Security-Policy"]
        return secure(response, PUBLICATION_CSP)

    async def campaign_zip(request: Request) -> Response:
        session = national(request)
        if session is None:
            return refused()
        period = request.path_params["period"]
        with pole_space.snapshot(settings) as con:
            files = pole_space.period_files(con, period)
        if not files:
            return message(
                "Rien à télécharger", f"Aucun fichier en vigueur pour {period}.", 404, session
            )
        return _zip_response(settings, files, f"campagne_{period}_fichiers_en_vigueur.zip")

    return [
        Route("/national", overview),
        Route("/national/campagne/{period:int}.zip", campaign_zip),
        Route("/national/poles/{pole_id}", pole),
        Route("/national/poles/{pole_id}/retours/{name}", pole_file(serve_retour)),
        Route("/national/poles/{pole_id}/originaux/{sid:int}", pole_file(serve_original)),
        Route("/national/publication/{period:int}/{path:path}", publication),
    ]


def _zip_response(settings: Settings, files: list[dict], name: str) -> Response:
    """The files in force of a period in one zip (`<pole_id>_<file name>`), written to a
    temporary file of the portal's area and streamed: never the whole zip in memory."""
    tmp = tempfile.TemporaryFile(dir=settings.portal_dir)  # noqa: SIM115 - closed by the stream
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            data = read_archived(settings, f["archived_path"])
            if data is not None:
                zf.writestr(f"{f['pole_id']}_{Path(f['original_name']).name}", data)
    tmp.seek(0)

    def chunks():
        with tmp:
            while chunk := tmp.read(1 << 20):
                yield chunk

    response = StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
    return secure(response)


def _publication_file(settings: Settings, period: int, path: str) -> tuple[bytes, str] | None:
    """A file of the internal publication of `period`, by its path inside it; None for any
    path that leaves it (`..`, a link) or is not a plain file."""
    root = (settings.publications_for("interne") / str(period)).resolve()
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    target = root.joinpath(*parts) if parts else root
    if target.is_dir():
        target = target / "index.html"
    try:
        real = target.resolve(strict=True)
    except OSError:
        return None
    if root not in real.parents or not real.is_file() or os.path.islink(target):
        return None
    return Path(real).read_bytes(), real.name
