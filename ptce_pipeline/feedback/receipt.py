"""The HTML receipt a pole gets for each file: which pole and declared period it is about, what
was decided and why, what to do next, whom to ask, and every issue. Nothing a pole or the
national team supplied is ever rendered unescaped, nothing is fetched from outside (a strict
Content-Security-Policy), no script runs, and it reads on a phone as on a desktop."""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.feedback.notes import REINSTATED, fr_datetime, word

if TYPE_CHECKING:
    from ptce_pipeline.catalogue.contact import Contact
    from ptce_pipeline.store.records import Note

STATUS_TEXT = {
    "acceptee": "Accepté",
    "acceptee_avec_avertissements": "Accepté avec avertissements",
    "refusee": "Refusé",
    "remplacee": "Remplacé par une version déposée plus récemment",
    "retiree": "Retiré par l'équipe nationale",
    "retenue": "Validé, en attente (campagne close)",
    "en_attente": "En attente de traitement",
    "en_erreur": "En erreur (incident technique de notre côté)",
}


def receipt_html(
    *,
    pole_id: str,
    pole_name: str | None,
    period: int | None,
    original_name: str,
    sha256: str,
    received_at: dt.datetime,
    decided_at: dt.datetime,
    status: str | None,
    outcome: str,
    note: Note | None,
    issues: list[I.Issue],
    submission_id: int | None,
    annotated_name: str | None,
    late: bool = False,
    annotated_skipped: str | None = None,
    contact: Contact | None = None,
) -> str:
    """`pole_id`: the folder the file came from; `pole_name`: its name in the registry (None
    when it has none); `period`: the period the workbook declares (None when it could not be
    read); `annotated_skipped`: why no annotated copy was made (French), when a limit stopped
    it; `contact`: the national team's contact details (`catalogue.contact`)."""
    e = html.escape
    errors, warns = I.counts(issues)
    said = word(note)
    if (
        outcome == "doublon"
        and status in ("acceptee", "acceptee_avec_avertissements")
        and (note is None or note.code != REINSTATED)
    ):
        headline, color = "Déjà reçu", "#555555"
    else:
        headline = STATUS_TEXT.get(status or "", status or "Reçu")
        color = {
            "refusee": "#B00020",
            "acceptee": "#1B5E20",
            "acceptee_avec_avertissements": "#8A4B00",
            "retenue": "#1F3864",
        }.get(status or "", "#333333")
    pole = f"{pole_name} ({pole_id})" if pole_name else pole_id
    declared = str(period) if period is not None else PERIOD_UNKNOWN
    annotated = (
        (
            f"<p>Copie annotée de votre classeur : <strong>{e(annotated_name)}</strong> "
            "(dans ce même dossier «&nbsp;retours&nbsp;»).</p>"
        )
        if annotated_name
        else (f"<p>{_prose(annotated_skipped)}</p>" if annotated_skipped else "")
    )
    late_text = "<p><strong>Dépôt après la date limite de la campagne.</strong></p>" if late else ""
    title = f"Accusé de réception — {pole_id} — période {period or 'inconnue'} — {original_name}"
    return f"""{page_head(title, STYLE.replace("STATUS_COLOR", color))}
<body>
<main>
<h1>Accusé de réception — suivi des PTCE</h1>
<p class="status">{e(headline)}</p>
{f"<p>{_prose(said[:1].upper() + said[1:])}.</p>" if said else ""}
<dl class="facts">
<dt>Pôle</dt><dd>{e(pole)}</dd>
<dt>Période déclarée</dt><dd>{e(declared)}</dd>
<dt>Fichier</dt><dd>{e(original_name)}</dd>
<dt>Numéro de dépôt</dt><dd>{e(str(submission_id) if submission_id is not None else "—")}</dd>
<dt>Reçu le</dt><dd>{e(fr_datetime(received_at))}</dd>
<dt>Traité le</dt><dd>{e(fr_datetime(decided_at))}</dd>
<dt>Anomalies</dt><dd>{errors} erreur(s), {warns} avertissement(s)</dd>
<dt>Empreinte (SHA-256)</dt><dd><code>{e(sha256)}</code></dd>
</dl>
{late_text}
<h2>Et maintenant ?</h2>
<p>{_prose(_next_step(status, warns, duplicate=headline == "Déjà reçu"))}</p>
{annotated}
{_contact_html(contact)}
{_issues_table(issues)}
</main>
</body>
</html>
"""


PERIOD_UNKNOWN = "inconnue (non lue dans le classeur)"
# Readable from a phone (390 px) to a desktop: no page scrolls sideways. Long names and values
# wrap anywhere; the facts go to one column and the anomalies to one card each on a narrow
# screen (explicit ARIA roles keep the table a table for screen readers); on a wide one the
# table scrolls inside its own box if it must.
STYLE = """\
*, *::before, *::after { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; }
.status { font-size: 1.3rem; font-weight: bold; color: STATUS_COLOR; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; min-width: 0; }
.table-box { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
caption { text-align: left; font-weight: bold; margin-bottom: .5rem; }
th, td { border: 1px solid #8c8c8c; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #1F3864; color: #fff; }
.erreur { color: #B00020; font-weight: bold; }
.avertissement { color: #8A4B00; font-weight: bold; }
code { word-break: break-all; }
@media (max-width: 40rem) {
  body { margin: 1rem auto; padding: 0 .75rem; }
  h1 { font-size: 1.3rem; }
  dl { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dd { margin-bottom: .5rem; }
  table, tbody, tr, td { display: block; }
  caption { display: block; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  tr { border: 1px solid #8c8c8c; margin-bottom: .75rem; }
  td { border: 0; border-top: 1px solid #d9d9d9; display: grid; grid-template-columns: 6.5rem minmax(0, 1fr); gap: .5rem; }
  tr td:first-child { border-top: 0; }
  td::before { content: attr(data-label); font-weight: bold; color: #1a1a1a; }
}"""
COLUMNS = ("N°", "Gravité", "Feuille", "Cellule", "Message", "Valeur lue")


def page_head(title: str, style: str) -> str:
    """The head of a page a pole gets in its `retours/` (receipt, review notice): French, a
    strict Content-Security-Policy (no script, nothing fetched), readable on a phone."""
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
{style}
</style>
</head>"""


def _next_step(status: str | None, warns: int, *, duplicate: bool = False) -> str:
    if status == "refusee":
        return (
            "Ce classeur n'a pas été intégré. Ouvrez la copie annotée, corrigez les cellules en "
            "rouge (la feuille « Anomalies » les liste toutes) et déposez le classeur corrigé "
            "dans votre dossier."
        )
    if status in ("acceptee", "acceptee_avec_avertissements"):
        nxt = (
            "Ce classeur était déjà intégré au suivi national et reste la version en vigueur."
            if duplicate
            else "Vos données sont intégrées au suivi national."
        ) + (
            " Vous pouvez déposer une version corrigée à tout moment : la dernière version "
            "acceptée remplace la précédente."
        )
        if warns:
            nxt += (
                " Les avertissements n'empêchent pas l'intégration, mais vérifiez les valeurs "
                "signalées."
            )
        return nxt
    if status == "retenue":
        return (
            "Votre classeur est valide et conservé ; il sera pris en compte à la réouverture de "
            "la campagne."
        )
    return "Aucune action n'est nécessaire de votre part."


def _issues_table(issues: list[I.Issue]) -> str:
    """Every issue, one row each (one card each on a narrow screen)."""
    if not issues:
        return "<p>Aucune anomalie.</p>"
    e = html.escape
    head = "".join(f'<th scope="col" role="columnheader">{c}</th>' for c in COLUMNS)

    def cell(n: int, content: str, css: str = "") -> str:
        cls = f' class="{css}"' if css else ""
        return f'<td role="cell" data-label="{COLUMNS[n]}"{cls}>{content}</td>'

    rows = "".join(
        '<tr role="row">'
        + cell(0, str(n))
        + cell(1, e(i.severity), e(i.severity))
        + cell(2, e(i.sheet or "—"))
        + cell(3, e(i.cell or "—"))
        + cell(4, _prose(i.message))
        + cell(5, f"<code>{e(i.value or '')}</code>")
        + "</tr>"
        for n, i in enumerate(issues, start=1)
    )
    return (
        '<div class="table-box" role="region" aria-labelledby="anomalies" tabindex="0">'
        '<table role="table"><caption id="anomalies">Anomalies relevées</caption>'
        f'<thead role="rowgroup"><tr role="row">{head}</tr></thead>'
        f'<tbody role="rowgroup">{rows}</tbody></table></div>'
    )


def _contact_html(contact: Contact | None) -> str:
    """Whom to ask, and how (the home's contact.toml): text, never markup; the e-mail and the
    telephone as links a phone can follow (both checked when the file was read)."""
    if contact is None:
        return ""
    e = html.escape
    items = []
    for key, label, value in contact.details():
        shown = "<br>".join(e(line) for line in value.splitlines())
        if key == "courriel":
            shown = f'<a href="mailto:{e(value)}">{shown}</a>'
        elif key == "telephone":
            digits = "".join(c for c in value if c.isdigit() or c == "+")
            shown = f'<a href="tel:{e(digits)}">{shown}</a>'
        items.append(f"<dt>{e(label)}</dt><dd>{shown}</dd>")
    facts = f'<dl class="contact">{"".join(items)}</dl>' if items else ""
    return f"<h2>Une question ?</h2>\n<p>{_prose(f'Pour toute question : {contact.who}.')}</p>\n{facts}"


def _prose(text: str) -> str:
    """Escaped French text whose guillemets and colons never wrap away from their words."""
    out = html.escape(text)
    for a, b in (("« ", "«&nbsp;"), (" »", "&nbsp;»"), (" :", "&nbsp;:"), (" ;", "&nbsp;;")):
        out = out.replace(a, b)
    return out
