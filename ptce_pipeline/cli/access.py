"""`ptce access create|list|revoke`: personal links to the portal (thin shell over
`portal.links`)."""

from __future__ import annotations

from ptce_pipeline.cli.output import err, out, out_json
from ptce_pipeline.cli.verbs import _by, _require_home, _settings
from ptce_pipeline.portal import access_rows, create_link, revoke_links

ROLE_LABELS = {"pole": "pôle", "equipe_nationale": "équipe nationale"}
STATE_LABELS = {"active": "active", "expiree": "expirée", "revoquee": "révoquée"}


def cmd_access(args) -> int:
    settings = _settings(args)
    _require_home(settings)
    if args.action == "create":
        pole = None if args.national_team else args.pole
        record, url = create_link(
            settings,
            pole_id=pole,
            label=args.label or "",
            expires=args.expires,
            by=_by(args, settings),
        )
        who = "l'équipe nationale" if pole is None else f"le pôle {pole}"
        if args.json:
            out_json(
                {
                    "access_id": record.access_id,
                    "pole_id": pole,
                    "url": url,
                    "expires_at": record.expires_at,
                }
            )
            return 0
        out(
            f"Lien personnel n° {record.access_id} pour {who}"
            + (f" ({record.label})" if record.label else "")
            + f", valable jusqu'au {record.expires_at[:10]} :"
        )
        out(url)
        out(
            "Transmettez-le à son seul destinataire : il ouvre l'espace sans mot de passe. "
            "Il n'est affiché qu'une fois ; en cas de perte, créez-en un autre et révoquez "
            f"celui-ci (ptce access revoke {record.access_id})."
        )
        return 0
    if args.action == "list":
        rows = access_rows(settings, args.pole)
        if args.json:
            out_json(rows)
            return 0
        if not rows:
            out("Aucun lien d'accès.")
            return 0
        for r in rows:
            who = r["pole_id"] or ROLE_LABELS[r["role"]]
            used = (
                f", dernier usage {r['last_used_at']}" if r["last_used_at"] else ", jamais utilisé"
            )
            out(
                f"n° {r['access_id']} · {who} · {STATE_LABELS[r['state']]}"
                + (f" · {r['label']}" if r["label"] else "")
                + f" · créé le {r['created_at'][:10]} par {r['created_by']}"
                + f", expire le {(r['expires_at'] or '')[:10]}{used}"
            )
        return 0
    # revoke
    done, missing = revoke_links(
        settings, args.access_id, pole_id=args.pole, by=_by(args, settings)
    )
    for a in done:
        out(
            f"Lien n° {a.access_id} révoqué ({a.pole_id or 'équipe nationale'}) : "
            "il n'ouvre plus l'espace et ses sessions sont fermées."
        )
    for i in missing:
        out(f"Lien n° {i} : inconnu ou déjà révoqué, rien à faire.")
    if not done and not missing:
        out("Aucun lien actif à révoquer.")
    return 1 if missing else 0


def cmd_portal(args) -> int:
    from ptce_pipeline.portal.server import run_portal

    settings = _settings(args)
    _require_home(settings)
    err(
        f"Portail : http://{args.host}:{args.port}/ (adresse publique : {settings.portal_url}). "
        "Ctrl+C pour arrêter."
    )
    run_portal(settings, host=args.host, port=args.port, proxies=args.proxies)
    return 0
