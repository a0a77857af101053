"""Who a request is. One place turns the session cookie into an identity (a pole, or the
national team); every page takes that identity, never a pole id from the request, to decide
what it shows. Links open sessions; a limited number of wrong links per client."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ptce_pipeline.config import Settings
from ptce_pipeline.store import access as store

COOKIE = "ptce_session"
IDLE = dt.timedelta(hours=2)  # a session unused this long ends
ABSOLUTE = dt.timedelta(hours=12)  # and any session ends this long after the link was opened
FAILURES_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES = 10  # wrong links per client in the window, then every link attempt is refused


def client_of(request: Request) -> str:
    """The client's address (the proxy's `X-Forwarded-For` when uvicorn trusts it)."""
    return request.client.host if request.client else "inconnu"


def session_of(settings: Settings, request: Request) -> store.Session | None:
    cookie = request.cookies.get(COOKIE, "")
    if not cookie:
        return None
    return store.session_for(
        settings.portal_dir, cookie, now=settings.clock(), idle=IDLE, absolute=ABSOLUTE
    )


def blocked(settings: Settings, request: Request) -> bool:
    return (
        store.recent_failures(
            settings.portal_dir, client_of(request), now=settings.clock(), window=FAILURES_WINDOW
        )
        >= MAX_FAILURES
    )


def open_link(settings: Settings, request: Request, token: str) -> RedirectResponse | None:
    """A link was opened: a session and a redirection to a URL without the token, or None
    (an unknown, expired or revoked link: counted against the client)."""
    opened = store.open_link(settings.portal_dir, token, now=settings.clock())
    if opened is None:
        store.note_failure(settings.portal_dir, client_of(request), now=settings.clock())
        return None
    session, cookie = opened
    target = "/national" if session.identity.national else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(ABSOLUTE.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def logout(settings: Settings, request: Request, response: Response) -> Response:
    store.end_session(settings.portal_dir, request.cookies.get(COOKIE, ""), now=settings.clock())
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


def csrf_ok(session: store.Session, sent: str | None) -> bool:
    return store.csrf_ok(session, sent)
