"""Pages and responses of the portal: Jinja2 templates (autoescaped), French, no external
resource, and the security headers every response carries."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from ptce_pipeline.catalogue import vocabulary

# no script, no frame, no outside resource; forms post to this site only
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# a receipt or fiche the pipeline wrote: its own inline styles, nothing else, sandboxed
CSP_DOCUMENT = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'; sandbox"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _fr_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return vocabulary.short_datetime(value)
    if isinstance(value, dt.date):
        return vocabulary.short_date(value)
    return str(value)


def _size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1000:
        return f"{n} octets"
    if n < 1_000_000:
        return f"{n / 1000:.0f} ko"
    return f"{n / 1_000_000:.1f} Mo".replace(".", ",")


def _status(code: str | None) -> str:
    return vocabulary.label(code) if code else ""


ENV = Environment(
    loader=PackageLoader("ptce_pipeline.portal", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["date_fr"] = _fr_date
ENV.filters["taille"] = _size
ENV.filters["statut"] = _status
ENV.filters["urlpart"] = lambda s: urllib.parse.quote(str(s), safe="")


def page(template: str, status: int = 200, **context) -> HTMLResponse:
    html = ENV.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status)
    secure(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def secure(response: Response, csp: str = CSP) -> Response:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Content-Security-Policy", csp)
    return response


def message(title: str, text: str, status: int, session=None) -> HTMLResponse:
    """A French page for an error or a notice (never a stack trace)."""
    return page("message.html", status=status, title=title, text=text, session=session)


def download(data: bytes, name: str, media_type: str, *, inline: bool = False) -> Response:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "inline" if inline else "attachment"
    response = Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{urllib.parse.quote(name, safe='')}",
            "Cache-Control": "no-store",
        },
    )
    return secure(response, CSP_DOCUMENT)
