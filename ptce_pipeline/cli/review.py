"""`ptce review list|show|approve|send-back`: the national team's review (thin shell over
`ingestion.review` and `store.review`)."""

from __future__ import annotations

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.cli.output import out, out_json
from ptce_pipeline.cli.verbs import _by, _require_home, _settings
from ptce_pipeline.errors import HomeError, NotFound
from ptce_pipeline.store.records import SENT_BACK, SIGNED_OFF


def cmd_review(args) -> int:
    settings = _settings(args)
    _require_home(settings)
    if args.action == "list":
        return _list(settings, args)
    if args.action == "show":
        return _show(settings, args)
    from ptce_pipeline.ingestion.review import decide
    from ptce_pipeline.store.lock import warehouse_lock

    decision = SIGNED_OFF if args.action == "approve" else SENT_BACK
    with warehouse_lock(settings.lock_path, now=settings.clock()):
        result = decide(
            settings, args.submissions, decision, comment=args.comment, by=_by(args, settings)
        )
    for line in result.lines:
        out(line)
    return 1 if result.attention else 0


def _list(settings, args) -> int:
    from ptce_pipeline.store.review import review_rows
    from ptce_pipeline.store.warehouse import reader

    with reader(settings) as con:
        if con is None:
            raise HomeError(
                "L'entrepôt n'existe pas encore : lancez `ptce init` puis `ptce ingest`."
            )
        rows = review_rows(con, period=args.period, state=args.state)
    if args.json:
        out_json(
            [
                {
                    **r,
                    **{
                        k: r[k].isoformat() if r[k] is not None else None
                        for k in ("received_at", "reviewed_at")
                    },
                }
                for r in rows
            ]
        )
        return 0
    if not rows:
        out("Aucune déclaration en vigueur" + (f" pour {args.period}." if args.period else "."))
        return 0
    waiting = sum(1 for r in rows if r["review_state"] == "a_revoir")
    out(f"{len(rows)} déclaration(s) en vigueur, dont {waiting} à relire.")
    for r in rows:
        warn = f", {r['n_warnings']} avertissement(s)" if r["n_warnings"] else ""
        late = ", en retard" if r["late"] else ""
        line = (
            f"n° {r['submission_id']} — {r['pole_id']} {r['pole_name'] or ''} — {r['period']} — "
            f"{vocabulary.label(r['review_state'])}{warn}{late} — reçu le {vocabulary.short_date(r['received_at'])}"
        )
        if r["review_state"] in ("validee", "a_corriger") and r["reviewed_by"]:
            line += f" — décidé le {vocabulary.short_date(r['reviewed_at'])} par {r['reviewed_by']}"
        out(line)
        if r["review_state"] == "a_corriger" and r["review_comment"]:
            out(f"    « {r['review_comment']} »")
    return 0


def _show(settings, args) -> int:
    from ptce_pipeline.catalogue.referentiel import load_referentiel
    from ptce_pipeline.store.review_view import review_view
    from ptce_pipeline.store.warehouse import reader

    ref = load_referentiel(settings.referentiel_path)
    with reader(settings) as con:
        if con is None:
            raise HomeError(
                "L'entrepôt n'existe pas encore : lancez `ptce init` puis `ptce ingest`."
            )
        view = review_view(con, args.submission, ref)
    if view is None:
        raise NotFound(
            f"Aucun dépôt n° {args.submission} dans l'entrepôt (voir `ptce review list`)."
        )
    if args.json:
        out_json(view.to_json())
        return 0
    for line in view.lines():
        out(line)
    return 0
