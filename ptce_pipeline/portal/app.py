"""The portal's web application (Starlette): the poles' pages, the national team's pages, the
link that opens a session. Routes are thin: `auth` gives the identity, `pole_space` and
`files` give that identity's data, `render` writes the French page."""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ptce_pipeline.config import Settings
from ptce_pipeline.portal import auth, pole_routes
from ptce_pipeline.portal.national_routes import national_routes
from ptce_pipeline.portal.render import message, secure
from ptce_pipeline.portal.review_routes import review_routes
from ptce_pipeline.portal.uploads import sweep

log = logging.getLogger("ptce.portail")
STATIC = Path(__file__).parent / "static"
REDACT = re.compile(r"^/acces/[^/?#]*")


def redact(path: str) -> str:
    """A path as the access log may record it: never a link's token."""
    return REDACT.sub("/acces/[jeton]", path)


class AccessLog:
    """One line per request (client, method, path without token, status): uvicorn's own
    access log is off, since it would record the link's token."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = {"code": 0}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = (scope.get("client") or ("-",))[0]
            log.info("%s %s %s %s", client, scope["method"], redact(scope["path"]), status["code"])


class Guard:
    """Our own bug on a page: the French error page, one line in the log and the traceback in
    the home's `.ptce-erreurs.log` (as the CLI does), never on the console."""

    def __init__(self, app, crash_log: Path):
        self.app, self.crash_log = app, crash_log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = {"yes": False}

        async def sending(message):
            if message["type"] == "http.response.start":
                started["yes"] = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            log.error("erreur interne sur %s : %s", redact(scope["path"]), type(exc).__name__)
            with contextlib.suppress(OSError), open(self.crash_log, "a", encoding="utf-8") as fh:
                fh.write(f"--- portail {redact(scope['path'])}\n{traceback.format_exc()}\n")
            if started["yes"]:
                return
            await _error_page()(scope, receive, send)


def _error_page() -> Response:
    return message(
        "Erreur de notre côté",
        "La page n'a pas pu être affichée. Réessayez dans quelques minutes ; si cela dure, "
        "prévenez l'équipe nationale.",
        500,
    )


def create_app(settings: Settings, *, allowed_hosts: list[str] | None = None) -> Starlette:
    sweep(settings.portal_dir)

    async def home(request: Request) -> Response:
        session = auth.session_of(settings, request)
        if session is None:
            return _anonymous()
        if session.identity.national:
            return RedirectResponse("/national", status_code=303)
        return pole_routes.pole_home(settings, session)

    async def open_link(request: Request) -> Response:
        if auth.blocked(settings, request):
            return message(
                "Trop de tentatives",
                "Trop de liens invalides ont été essayés depuis votre connexion. Réessayez "
                "dans un quart d'heure avec le lien reçu de l'équipe nationale.",
                429,
            )
        response = auth.open_link(settings, request, request.path_params["token"])
        if response is None:
            return message(
                "Lien inconnu ou expiré",
                "Ce lien n'ouvre aucun espace : il est inconnu, a expiré ou a été révoqué. "
                "Demandez un nouveau lien personnel à l'équipe nationale.",
                404,
            )
        return secure(response)

    async def logout(request: Request) -> Response:
        session = auth.session_of(settings, request)
        form = await _small_form(request)
        if session is not None and not auth.csrf_ok(session, form.get("csrf")):
            return message("Demande refusée", "Rechargez la page et recommencez.", 403, session)
        response = message(
            "Vous êtes déconnecté",
            "Pour revenir, ouvrez de nouveau votre lien personnel.",
            200,
        )
        return auth.logout(settings, request, response)

    async def not_found(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 404)
        if code == 405:
            return message("Action impossible", "Cette adresse ne prend pas cette demande.", 405)
        return message(
            "Page introuvable", "Cette page n'existe pas ou ne vous est pas ouverte.", 404
        )

    routes = [
        Route("/", home),
        Route("/acces/{token}", open_link),
        Route("/deconnexion", logout, methods=["POST"]),
        *pole_routes.routes(settings),
        *national_routes(settings),
        *review_routes(settings),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(AccessLog),
        Middleware(Guard, crash_log=settings.home / ".ptce-erreurs.log"),
    ]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: not_found,
            404: not_found,
            405: not_found,
        },
    )


def _anonymous() -> Response:
    return message(
        "Accès réservé",
        "Cet espace s'ouvre avec le lien personnel reçu de l'équipe nationale. Si votre lien "
        "ne fonctionne plus, demandez-en un nouveau.",
        401,
    )


async def _small_form(request: Request) -> dict[str, str]:
    """A url-encoded form of a few fields (logout, review): at most 4 kB read."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 4096:
            return {}
    from urllib.parse import parse_qs

    with contextlib.suppress(UnicodeDecodeError):
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
    return {}
