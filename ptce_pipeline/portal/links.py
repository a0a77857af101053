"""Personal access links (`ptce access create|list|revoke`): who may open the portal, as which
pole or as the national team. The store (SQLite, hashes only) is `store.access`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ptce_pipeline.catalogue import load_registry
from ptce_pipeline.config import Settings
from ptce_pipeline.errors import ConfigError, NotFound
from ptce_pipeline.store import access as store

DEFAULT_VALIDITY = dt.timedelta(days=365)
OPEN_PATH = "/acces/"  # a link is <PTCE_PORTAL_URL>/acces/<token>

STATE_LABELS = {"active": "active", "expiree": "expirée", "revoquee": "révoquée"}


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.portal_url}{OPEN_PATH}{token}"


def _expiry(settings: Settings, expires: dt.date | None) -> dt.datetime:
    now = settings.clock()
    if expires is None:
        return now + DEFAULT_VALIDITY
    # valid through the whole day named, Paris time
    from zoneinfo import ZoneInfo

    end = dt.datetime.combine(expires + dt.timedelta(days=1), dt.time(), ZoneInfo("Europe/Paris"))
    if end <= now:
        raise ConfigError(
            f"--expires {expires.isoformat()} est déjà passée : donnez une date à venir."
        )
    return end.astimezone(dt.UTC)


def create_link(
    settings: Settings,
    *,
    pole_id: str | None,
    label: str = "",
    expires: dt.date | None = None,
    by: str,
) -> tuple[store.Access, str]:
    """A new personal link for a registered pole, or for the national team (`pole_id` None)
    → (its record, its URL). The URL holds the token: it is shown once and never stored."""
    if pole_id is not None:
        registry = load_registry(settings.registry_path)
        if pole_id not in registry.poles:
            raise NotFound(
                f"Le pôle {pole_id} n'est pas inscrit dans {settings.registry_path} : "
                "vérifiez l'identifiant (ptce status liste les pôles attendus)."
            )
    label = " ".join(label.split())[:200]
    record, token = store.create_access(
        settings.portal_dir,
        pole_id=pole_id,
        label=label,
        expires_at=_expiry(settings, expires),
        by=by,
        now=settings.clock(),
    )
    return record, link_url(settings, token)


def access_rows(settings: Settings, pole_id: str | None = None) -> list[dict[str, Any]]:
    """Every link (never a token), for `ptce access list`."""
    now = settings.clock()
    if not (settings.portal_dir / store.STORE_NAME).exists():
        return []
    return [
        {
            "access_id": a.access_id,
            "role": a.role,
            "pole_id": a.pole_id,
            "label": a.label,
            "state": a.state(now),
            "created_at": a.created_at,
            "created_by": a.created_by,
            "expires_at": a.expires_at,
            "last_used_at": a.last_used_at,
            "revoked_at": a.revoked_at,
            "revoked_by": a.revoked_by,
        }
        for a in store.list_access(settings.portal_dir, pole_id)
    ]


def revoke_links(
    settings: Settings, access_ids: list[int], *, pole_id: str | None = None, by: str
) -> tuple[list[store.Access], list[int]]:
    """Revoke links by number, or every live link of a pole → (revoked now, numbers unknown or
    already revoked). Their sessions end at once."""
    ids = list(access_ids)
    if pole_id is not None:
        ids += [
            a.access_id
            for a in store.list_access(settings.portal_dir, pole_id)
            if a.revoked_at is None
        ]
    done = store.revoke(settings.portal_dir, ids, by=by, now=settings.clock())
    revoked = {a.access_id for a in done}
    return done, [i for i in access_ids if i not in revoked]
