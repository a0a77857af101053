"""The notice a pole gets in its `retours/` when the national team decides on its declaration:
sent back (`a_corriger`, quoting the reviewer's comment and saying what to do) or signed off
(`validee`). Same frame as the receipt: escaped text only, no script, nothing fetched, readable
on a phone."""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING

from ptce_pipeline.feedback.notes import fr_datetime
from ptce_pipeline.feedback.receipt import STYLE, _contact_html, _prose, page_head

if TYPE_CHECKING:
    from ptce_pipeline.catalogue.contact import Contact

SENT_BACK_NEXT = (
    "Corrigez votre classeur en tenant compte de ce commentaire, puis déposez-le de nouveau "
    "(dans votre dossier de dépôt ou sur votre espace en ligne). D'ici là, votre déclaration reste "
    "en vigueur mais provisoire : elle n'entre pas dans les chiffres publiés pour la période. "
    "Si vous pensez qu'aucune correction n'est nécessaire, répondez à l'équipe nationale."
)
SIGNED_OFF_NEXT = (
    "Votre déclaration fait désormais foi : ses chiffres entrent dans les tableaux nationaux de "
    "la période. Vous n'avez rien à faire. Si vous déposez une nouvelle version, elle sera relue "
    "à son tour."
)


def notice_html(
    *,
    decision: str,
    pole_id: str,
    pole_name: str | None,
    period: int | None,
    original_name: str,
    submission_id: int,
    received_at: dt.datetime | None,
    decided_at: dt.datetime,
    comment: str | None,
    contact: Contact | None = None,
) -> str:
    """`decision`: `a_corriger` or `validee`; `comment`: the reviewer's words to the pole."""
    e = html.escape
    sent_back = decision == "a_corriger"
    headline = "À corriger" if sent_back else "Validée par l'équipe nationale"
    color = "#B00020" if sent_back else "#1B5E20"
    pole = f"{pole_name} ({pole_id})" if pole_name else pole_id
    what = (
        f"L'équipe nationale a relu votre déclaration {period} et vous la renvoie pour correction."
        if sent_back
        else f"L'équipe nationale a relu et validé votre déclaration {period}."
    )
    quoted = ""
    if comment:
        paragraphs = "".join(f"<p>{_prose(line)}</p>" for line in comment.splitlines() if line)
        label = (
            "Commentaire de l'équipe nationale" if sent_back else "Message de l'équipe nationale"
        )
        quoted = f'<h2>{label}</h2>\n<blockquote class="comment">{paragraphs}</blockquote>'
    title = f"Relecture nationale — {pole_id} — période {period} — {headline}"
    style = STYLE.replace("STATUS_COLOR", color) + (
        "\nblockquote.comment { margin: 1rem 0; padding: .5rem 1rem; border-left: .3rem solid "
        f"{color}; background: #f4f4f4; }}"
    )
    return f"""{page_head(title, style)}
<body>
<main>
<h1>Relecture nationale — suivi des PTCE</h1>
<p class="status">{e(headline)}</p>
<p>{_prose(what)}</p>
<dl class="facts">
<dt>Pôle</dt><dd>{e(pole)}</dd>
<dt>Période</dt><dd>{e(str(period))}</dd>
<dt>Fichier</dt><dd>{e(original_name)}</dd>
<dt>Numéro de dépôt</dt><dd>{submission_id}</dd>
<dt>Reçu le</dt><dd>{e(fr_datetime(received_at))}</dd>
<dt>Décision du</dt><dd>{e(fr_datetime(decided_at))}</dd>
</dl>
{quoted}
<h2>Et maintenant ?</h2>
<p>{_prose(SENT_BACK_NEXT if sent_back else SIGNED_OFF_NEXT)}</p>
{_contact_html(contact)}
</main>
</body>
</html>
"""
