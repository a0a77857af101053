"""The review page renders a `ReviewView` by its agreed shape (docs/conventions.md): changes
grouped by what they compare with and by kind, naming their cells; warnings beside the pole's
own comment; « aucun changement » and « pas de dépôt antérieur » said as such. A view built
by hand, rendered by the page's own template."""

from __future__ import annotations

import datetime as dt
import html
import re

from ptce_pipeline.portal.render import ENV
from ptce_pipeline.portal.review_display import change_groups, view_context
from ptce_pipeline.store.access import Identity, Session
from ptce_pipeline.store.review_view import ReviewView

AT = dt.datetime(2025, 4, 2, 9, 30, tzinfo=dt.UTC)
SESSION = Session(Identity("equipe_nationale", None, 1, "Claire"), "jeton-csrf")


def facts(**kw) -> dict:
    return {
        "submission_id": 12,
        "pole_id": "PTCE-001",
        "pole_name": "Pôle Sud",
        "period": 2025,
        "original_name": "suivi.xlsx",
        "status": "acceptee_avec_avertissements",
        "late": False,
        "received_at": AT,
        "review_state": "a_revoir",
        "reviewed_at": None,
        "reviewed_by": None,
        "review_comment": None,
        **kw,
    }


def change(against, kind, change, key, label, before, after, cell=None, field=None, **kw):
    return {
        "against": against,
        "against_id": 7 if against == "submission" else 3,
        "against_period": 2025 if against == "submission" else 2024,
        "kind": kind,
        "change": change,
        "key": key,
        "label": label,
        "field": field,
        "sheet": "Indicateurs" if kind == "value" else "Membres",
        "cell": cell,
        "before": before,
        "after": after,
        **kw,
    }


def rendered(view: ReviewView) -> str:
    page = ENV.get_template("relecture_depot.html").render(
        title="Dépôt n° 12", session=SESSION, confirmation=[], **view_context(view)
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_changes_are_grouped_and_name_their_cells():
    view = ReviewView(
        facts(),
        warnings=[
            {
                "sheet": "Indicateurs",
                "cell": "D14",
                "code": "large-change",
                "message": "Valeur très différente de l'an dernier",
                "value": "120",
                "pole_comment": "Fusion avec l'association voisine en 2025",
            }
        ],
        history=[{"done_at": AT, "by_user": "Alice", "action": "reprocess", "reason": "erreur"}],
    )
    view.changes = [
        change("submission", "value", "changed", "IND05", "Nombre d'ETP", "12", "120", "D14"),
        change("submission", "member", "added", "12345678901234", "Coop Vive", None, "Coop Vive"),
        change(
            "period", "member", "changed", "98765432109876", "Régie", "a", "b", "C9", field="SIRET"
        ),
        change("period", "criterion", "removed", "CRIT03", "Gouvernance partagée", "oui", None),
    ]
    text = squeeze(rendered(view))
    assert "Depuis le dépôt précédent du pôle pour cette période (n° 7)" in text
    assert "Depuis la déclaration 2024 du pôle" in text
    assert "Nombre d'ETP (IND05) modifié Indicateurs D14 12 120" in text
    assert "Coop Vive ajouté" in text
    assert "Régie — SIRET modifié Membres C9 a b" in text
    assert "Gouvernance partagée (CRIT03) retiré" in text
    # the warning with the pole's own comment beside it
    assert "Valeur très différente de l'an dernier (large-change) 120 Fusion avec" in text
    assert "nouveau traitement, par Alice — « erreur »" in text
    assert "Renvoyer au pôle" in text and "Valider" in text


def test_nothing_changed_and_nothing_earlier_are_said():
    view = ReviewView(facts(status="remplacee", review_state="a_corriger"))
    view.changes = []
    text = squeeze(rendered(view))
    assert text.count("Aucun changement relevé.") == 2
    assert "Aucun avertissement." in text
    # not the version in force: no decision offered
    assert "rien à décider" in text and "Renvoyer au pôle" not in text
    groups = change_groups(
        [{"against": "submission", "against_id": None, "against_period": 2025, "change": None}]
    )
    assert [g["state"] for g in groups] == ["first", "none"]
    view.changes = [{"against": "submission", "against_id": None, "against_period": 2025}]
    assert "Pas de dépôt antérieur du pôle pour cette période." in rendered(view)


def test_a_view_without_changes_renders():
    """The view as main builds it today (no `changes` attribute)."""
    text = squeeze(rendered(ReviewView(facts())))
    assert "Aucun changement relevé." in text


def test_what_the_view_compared_with_decides_first_or_none():
    """The store's view says what it compared with (`compared`): nothing earlier for this
    period, the 2024 declaration for the previous period, and nothing changed since it."""
    groups = change_groups([], {"submission": None, "period": {"submission_id": 3, "period": 2024}})
    assert [g["state"] for g in groups] == ["first", "none"]
    assert groups[1]["title"] == "Depuis la déclaration 2024 du pôle"
