"""The national team's review on the web (issue 19): the declarations in force and their review
state, one declaration's review view, and the two decisions (sign off, send back to the pole
with a comment). A thin shell over `store.review`, `store.review_view` and
`ingestion.review.decide`, like `ptce review`; only a national-team session opens it (a pole's
session gets 403, no session 401)."""

from __future__ import annotations

import threading
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError, NotFound, WarehouseBusy
from ptce_pipeline.portal import auth
from ptce_pipeline.portal.render import message, page, secure
from ptce_pipeline.portal.review_display import CONFIRMATIONS, view_context
from ptce_pipeline.store import access as store
from ptce_pipeline.store import pole_space
from ptce_pipeline.store.records import REVIEW_STATES, SENT_BACK, SIGNED_OFF

MAX_FORM = 64 * 1024  # a comment of 4,000 characters, url-encoded, and a few hundred ids
_one_at_a_time = threading.Lock()  # the warehouse lock is re-entrant within a process


def author(identity: store.Identity) -> str:
    """Who decides, as the journal records it: the access link's label, else its number."""
    return identity.label.strip() or f"équipe nationale (lien n° {identity.access_id})"


def _decide(settings: Settings, sids: list[int], decision: str, comment: str | None, by: str):
    from ptce_pipeline.ingestion.review import decide
    from ptce_pipeline.store.lock import warehouse_lock

    with (
        _one_at_a_time,
        warehouse_lock(settings.lock_path, what="portail, relecture", now=settings.clock()),
    ):
        return decide(settings, sids, decision, comment=comment, by=by)


async def _form(request: Request) -> dict[str, list[str]] | None:
    """A url-encoded form (every value of each field); None when larger than MAX_FORM."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    try:
        return urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}


def _number(text: str) -> int | None:
    """A plain decimal number (ASCII digits only: `"²".isdigit()` is true), else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _first(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key) or [""]
    return values[0]


def _filters(periods: list[int], periode: str, etat: str) -> tuple[int | None, str | None]:
    """The list's filters from the query (anything unknown is no filter)."""
    period = _number(periode)
    period = period if period in periods else None
    return period, etat if etat in REVIEW_STATES else None


def review_routes(settings: Settings) -> list[Route]:
    def reviewer(request: Request) -> tuple[store.Session | None, Response | None]:
        session = auth.session_of(settings, request)
        if session is None:
            return None, message(
                "Accès réservé", "Cette page est réservée à l'équipe nationale.", 401
            )
        if not session.identity.national:
            return None, message(
                "Accès réservé",
                "Cette page est réservée à l'équipe nationale : votre lien ouvre l'espace de "
                "votre pôle.",
                403,
                session,
            )
        return session, None

    async def listing(request: Request) -> Response:
        session, refused = reviewer(request)
        if refused is not None:
            return refused
        from ptce_pipeline.store.review import STATE_ORDER, review_rows

        with pole_space.snapshot(settings) as con:
            periods = pole_space.periods(con)
            period, state = _filters(
                periods,
                request.query_params.get("periode", ""),
                request.query_params.get("etat", ""),
            )
            rows = review_rows(con, period=period, state=state) if con is not None else []
        waiting = sum(1 for r in rows if r["review_state"] == "a_revoir")
        return page(
            "relecture.html",
            title="Relecture des déclarations",
            session=session,
            rows=rows,
            waiting=waiting,
            periods=periods,
            period=period,
            state=state,
            states=[
                (s, vocabulary.label(s)) for s in sorted(vocabulary.REVIEW, key=STATE_ORDER.get)
            ],
            confirmation=_confirmation(request),
        )

    async def detail(request: Request) -> Response:
        session, refused = reviewer(request)
        if refused is not None:
            return refused
        from ptce_pipeline.store.review_view import review_view

        sid = request.path_params["sid"]
        with pole_space.snapshot(settings) as con:
            view = review_view(con, sid) if con is not None else None
        if view is None:
            return message("Page introuvable", f"Aucun dépôt n° {sid}.", 404, session)
        return page(
            "relecture_depot.html",
            title=f"Dépôt n° {sid}",
            session=session,
            **view_context(view),
            confirmation=_confirmation(request),
        )

    def decision_handler(decision: str):
        async def handler(request: Request) -> Response:
            session, refused = reviewer(request)
            if refused is not None:
                return refused
            form = await _form(request)
            if form is None:
                return message("Envoi refusé", "Le formulaire envoyé est trop long.", 413, session)
            if not auth.csrf_ok(session, _first(form, "csrf")):
                return message("Demande refusée", "Rechargez la page et recommencez.", 403, session)
            sids = [n for n in map(_number, form.get("sid", [])) if n is not None]
            if not sids:
                return message(
                    "Aucune déclaration choisie",
                    "Cochez au moins une déclaration, puis recommencez.",
                    400,
                    session,
                )
            comment = _first(form, "commentaire")
            if decision == SENT_BACK and not comment.strip():
                return message(
                    "Commentaire obligatoire",
                    "Pour renvoyer une déclaration au pôle, écrivez-lui ce qu'il faut corriger, "
                    "et où : il lira ce commentaire dans son espace.",
                    400,
                    session,
                )
            try:
                result = await run_in_threadpool(
                    _decide, settings, sids, decision, comment or None, author(session.identity)
                )
            except WarehouseBusy:
                return message(
                    "Un passage est en cours",
                    "Un passage est en cours : réessayez dans un instant. Aucune décision n'a "
                    "été enregistrée.",
                    503,
                    session,
                )
            except (NotFound, ConfigError) as exc:
                return message("Aucune décision enregistrée", str(exc), 409, session)
            outcome = decision if result.changed else "inchange"
            query = {"fait": outcome, "n": str(len(sids))}
            if result.attention:
                query["avis"] = "0"
            if _first(form, "depuis") == "fiche" and len(sids) == 1:
                target = f"/national/relecture/{sids[0]}"
            else:
                target = "/national/relecture"
                for key in ("periode", "etat"):
                    if _first(form, key):
                        query[key] = _first(form, key)
            return secure(
                RedirectResponse(f"{target}?{urllib.parse.urlencode(query)}", status_code=303)
            )

        return handler

    return [
        Route("/national/relecture", listing),
        Route("/national/relecture/valider", decision_handler(SIGNED_OFF), methods=["POST"]),
        Route("/national/relecture/renvoyer", decision_handler(SENT_BACK), methods=["POST"]),
        Route("/national/relecture/{sid:int}", detail),
    ]


def _confirmation(request: Request) -> list[str]:
    """The French confirmation after a decision (from the redirection's query: codes only)."""
    done = request.query_params.get("fait", "")
    if done not in CONFIRMATIONS:
        return []
    n = _number(request.query_params.get("n", "")) or 1
    lines = [CONFIRMATIONS[done][0 if n <= 1 else 1].format(n=n)]
    if request.query_params.get("avis") == "0":
        lines.append(
            "L'avis n'a pas pu être écrit dans le dossier du pôle : la décision est enregistrée "
            "et visible sur son espace ; prévenez l'exploitant."
        )
    return lines
