"""The HTML receipt a pole gets for each file: what was decided and why, what to do next, and
every issue. Nothing a pole supplied is ever rendered unescaped, and nothing is fetched from
outside (a strict Content-Security-Policy)."""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.feedback.notes import REINSTATED, fr_datetime, word

if TYPE_CHECKING:
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
) -> str:
    """`annotated_skipped`: why no annotated copy was made (French), when a limit stopped it."""
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
    if status == "refusee":
        nxt = (
            "Ce classeur n'a pas été intégré. Ouvrez la copie annotée, corrigez les cellules en rouge "
            "(la feuille « Anomalies » les liste toutes) et déposez le classeur corrigé dans votre dossier."
        )
    elif status in ("acceptee", "acceptee_avec_avertissements"):
        nxt = (
            "Ce classeur était déjà intégré au suivi national et reste la version en vigueur."
            if headline == "Déjà reçu"
            else "Vos données sont intégrées au suivi national."
        ) + (
            " Vous pouvez déposer une version corrigée à tout moment : "
            "la dernière version acceptée remplace la précédente."
        )
        if warns:
            nxt += " Les avertissements n'empêchent pas l'intégration, mais vérifiez les valeurs signalées."
    elif status == "retenue":
        nxt = "Votre classeur est valide et conservé ; il sera pris en compte à la réouverture de la campagne."
    else:
        nxt = "Aucune action n'est nécessaire de votre part."
    rows = "".join(
        f'<tr><td>{n}</td><td class="{e(i.severity)}">{e(i.severity)}</td><td>{e(i.sheet or "—")}</td>'
        f"<td>{e(i.cell or '—')}</td><td>{_prose(i.message)}</td><td><code>{e(i.value or '')}</code></td></tr>"
        for n, i in enumerate(issues, start=1)
    )
    table = (
        (
            '<table><caption>Anomalies relevées</caption><thead><tr><th scope="col">N°</th><th scope="col">Gravité</th>'
            '<th scope="col">Feuille</th><th scope="col">Cellule</th><th scope="col">Message</th>'
            f'<th scope="col">Valeur lue</th></tr></thead><tbody>{rows}</tbody></table>'
        )
        if issues
        else "<p>Aucune anomalie.</p>"
    )
    annotated = (
        (
            f"<p>Copie annotée de votre classeur : <strong>{e(annotated_name)}</strong> "
            "(dans ce même dossier « retours »).</p>"
        )
        if annotated_name
        else (f"<p>{_prose(annotated_skipped)}</p>" if annotated_skipped else "")
    )
    late_text = "<p><strong>Dépôt après la date limite de la campagne.</strong></p>" if late else ""
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Accusé de réception — {e(original_name)}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.5rem; }}
.status {{ font-size: 1.3rem; font-weight: bold; color: {color}; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }}
dt {{ font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1rem; }}
caption {{ text-align: left; font-weight: bold; margin-bottom: .5rem; }}
th, td {{ border: 1px solid #8c8c8c; padding: .3rem .5rem; vertical-align: top; text-align: left; }}
th {{ background: #1F3864; color: #fff; }}
td.erreur {{ color: #B00020; font-weight: bold; }}
td.avertissement {{ color: #8A4B00; font-weight: bold; }}
code {{ word-break: break-all; }}
</style>
</head>
<body>
<main>
<h1>Accusé de réception — suivi des PTCE</h1>
<p class="status">{e(headline)}</p>
{f"<p>{_prose(said[:1].upper() + said[1:])}.</p>" if said else ""}
<dl>
<dt>Pôle</dt><dd>{e(pole_id)}</dd>
<dt>Fichier</dt><dd>{e(original_name)}</dd>
<dt>Reçu le</dt><dd>{e(fr_datetime(received_at))}</dd>
<dt>Traité le</dt><dd>{e(fr_datetime(decided_at))}</dd>
<dt>Empreinte (SHA-256)</dt><dd><code>{e(sha256)}</code></dd>
<dt>Numéro de dépôt</dt><dd>{e(str(submission_id) if submission_id is not None else "—")}</dd>
<dt>Anomalies</dt><dd>{errors} erreur(s), {warns} avertissement(s)</dd>
</dl>
{late_text}
<h2>Et maintenant ?</h2>
<p>{_prose(nxt)}</p>
{annotated}
{table}
</main>
</body>
</html>
"""


def _prose(text: str) -> str:
    """Escaped French text whose guillemets and colons never wrap away from their words."""
    out = html.escape(text)
    for a, b in (("« ", "«&nbsp;"), (" »", "&nbsp;»"), (" :", "&nbsp;:"), (" ;", "&nbsp;;")):
        out = out.replace(a, b)
    return out
