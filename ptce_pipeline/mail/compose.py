"""The French text of every e-mail, plain and HTML: one function per kind of message.

A message is a `Message` (a plain value, journaled whole in the outbox as `queued`): its
stable key, its recipients, subject, text, HTML and the files to attach (paths relative to
the home). Text from a file (names, cell messages) is escaped in the HTML and stripped of
control characters in both."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ptce_pipeline.catalogue import vocabulary

PARIS = ZoneInfo("Europe/Paris")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# the kinds of e-mail to a pole after a decision on its file, and after the national team's
# review of its declaration (issue 19: `review` journal records): a national decision is just
# another message kind
DECISION_KINDS = ("acceptee", "acceptee_avec_avertissements", "refusee")
REVIEW_KINDS = ("validee", "a_corriger")
MILESTONES = {"J-30": -30, "J-7": -7, "J-1": -1, "J+1": 1}


@dataclass
class Message:
    key: str
    kind: str
    to: list[str]
    subject: str
    text: str
    html: str
    pole: str | None = None
    period: int | None = None
    submission: int | None = None
    milestone: str | None = None
    attachments: list[str] = field(default_factory=list)  # relative to the home
    elsewhere: str = ""  # said instead of the attachments beyond the size cap

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


def clean(text: object, limit: int = 300) -> str:
    """Text from a file, one line, without control or bidi characters."""
    out = _CONTROL.sub(" ", str(text if text is not None else "")).replace("\n", " ")
    return out[:limit]


def _html(title: str, paragraphs: list[str], items: list[str] | None = None) -> str:
    """A small French HTML e-mail: title, paragraphs, an optional list (all escaped here)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if items:
        body += "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:40em">'
        f'<h1 style="font-size:1.2em">{html.escape(title)}</h1>{body}</body></html>'
    )


def _text(title: str, paragraphs: list[str], items: list[str] | None = None) -> str:
    lines = [title, "", *[p + "\n" for p in paragraphs]]
    if items:
        lines += [f"- {i}" for i in items] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _space(portal_url: str) -> str:
    return (
        f"Votre espace sur le portail : {portal_url}/ (ouvrez-le avec votre lien d'accès "
        "personnel ; l'équipe nationale vous en envoie un sur demande)."
    )


NEXT_STEP = {
    "acceptee": "Il n'y a rien d'autre à faire : votre déclaration est prise en compte.",
    "acceptee_avec_avertissements": (
        "Votre déclaration est prise en compte. Vérifiez les avertissements ci-dessous : si une "
        "valeur est à corriger, déposez le classeur corrigé, il remplacera celui-ci."
    ),
    "refusee": (
        "Corrigez les erreurs signalées (la copie annotée les montre dans le classeur), puis "
        "déposez de nouveau le classeur entier."
    ),
    "validee": "L'équipe nationale a validé votre déclaration : il n'y a rien d'autre à faire.",
    "a_corriger": (
        "L'équipe nationale vous demande de corriger votre déclaration (voir son commentaire), "
        "puis de déposer le classeur corrigé."
    ),
}


def decision_message(
    *,
    key: str,
    kind: str,
    to: list[str],
    pole: str,
    pole_name: str,
    period: int | None,
    submission: int,
    file_name: str,
    problems: list[tuple[str, str, str, str]],
    n_errors: int,
    n_warnings: int,
    portal_url: str,
    attachments: list[str],
    elsewhere: str,
    comment: str = "",
) -> Message:
    """The e-mail to a pole after a decision on its file (or on its declaration)."""
    label = vocabulary.label(kind) if kind in DECISION_KINDS else _REVIEW_LABELS[kind]
    shown_period = str(period) if period is not None else "inconnue"
    title = f"PTCE {pole} — période {shown_period} : déclaration {label}"
    paragraphs = [
        f"Bonjour, ceci concerne le pôle {clean(pole_name)} ({pole}).",
        f"Le fichier « {clean(file_name)} » (dépôt n° {submission}, période déclarée : "
        f"{shown_period}) est {label}.",
    ]
    if comment:
        paragraphs.append(f"Commentaire de l'équipe nationale : « {clean(comment, 1000)} »")
    if n_errors or n_warnings:
        paragraphs.append(
            f"{n_errors} erreur(s), {n_warnings} avertissement(s). Les premiers points :"
        )
    items = [
        f"{vocabulary.label(sev).capitalize()} — {clean(sheet) or 'classeur'}"
        + (f" {clean(cell)}" if cell else "")
        + f" : {clean(msg)}"
        for sheet, cell, sev, msg in problems
    ]
    tail = [NEXT_STEP[kind]]
    if attachments:
        tail.append("L'accusé de réception et, s'il y en a une, la copie annotée sont joints.")
    if elsewhere:
        tail.append(elsewhere)
    tail.append(_space(portal_url))
    tail.append("Ce message est envoyé automatiquement : n'y répondez pas.")
    return Message(
        key=key,
        kind=kind,
        to=to,
        subject=title,
        text=_text(title, paragraphs, items) + "\n" + _text("", tail).lstrip("\n"),
        html=_html(title, paragraphs, items).replace(
            "</body>", "".join(f"<p>{html.escape(t)}</p>" for t in tail) + "</body>"
        ),
        pole=pole,
        period=period,
        submission=submission,
        attachments=attachments,
        elsewhere=elsewhere,
    )


_REVIEW_LABELS = {"validee": "validée par l'équipe nationale", "a_corriger": "à corriger"}


def reminder_message(
    *,
    key: str,
    to: list[str],
    pole: str,
    pole_name: str,
    period: int,
    milestone: str,
    deadline: dt.date,
    status: str,
    portal_url: str,
) -> Message:
    """A reminder to a pole without an accepted declaration for a period."""
    days = MILESTONES[milestone]
    if days < 0:
        when = f"La date limite de la période {period} est le {vocabulary.long_date(deadline)}"
        when += " : c'est demain." if days == -1 else f", dans {-days} jours."
    else:
        when = f"La date limite de la période {period} était le {vocabulary.long_date(deadline)}."
    where = (
        "Nous n'avons encore reçu aucun classeur de votre part."
        if status == "manquante"
        else f"Votre dernier dépôt est « {vocabulary.label(status)} » : il ne compte pas encore."
    )
    title = f"PTCE {pole} — rappel : déclaration {period} attendue ({milestone})"
    paragraphs = [
        f"Bonjour, ceci concerne le pôle {clean(pole_name)} ({pole}).",
        when,
        where,
        "Déposez le classeur de suivi rempli dans votre dossier de dépôt ou sur le portail.",
        _space(portal_url),
        "Ce message est envoyé automatiquement : n'y répondez pas.",
    ]
    return Message(
        key=key,
        kind="relance",
        to=to,
        subject=title,
        text=_text(title, paragraphs),
        html=_html(title, paragraphs),
        pole=pole,
        period=period,
        milestone=milestone,
    )


def digest_message(
    *, key: str, to: list[str], week: str, sections: list[tuple[str, list[str]]]
) -> Message:
    """The national team's weekly digest: one section per topic."""
    title = f"PTCE — synthèse de la semaine {week}"
    text = title + "\n"
    body = ""
    for heading, lines in sections:
        text += f"\n{heading}\n" + "".join(f"- {clean(line, 500)}\n" for line in lines or ["—"])
        body += f'<h2 style="font-size:1em">{html.escape(heading)}</h2><ul>'
        body += "".join(f"<li>{html.escape(clean(line, 500))}</li>" for line in lines or ["—"])
        body += "</ul>"
    page = _html(title, []).replace("</body>", body + "</body>")
    return Message(key=key, kind="synthese", to=to, subject=title, text=text, html=page)


def notice_message(*, key: str, to: list[str], title: str, lines: list[str]) -> Message:
    """A notice to the national team (an address the server refused)."""
    return Message(
        key=key,
        kind="signalement",
        to=to,
        subject=title,
        text=_text(title, lines),
        html=_html(title, lines),
    )
