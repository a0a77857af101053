"""`ptce`: the command line (French help and output). Parsing only: each verb calls one core
function in `verbs`. Heavy libraries are imported inside the verbs, so `ptce --help` is fast."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys

from ptce_pipeline import __version__

_FR = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "affiche cette aide et quitte",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (possibles : %(choices)s)",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "expected one argument": "une valeur est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "expected at most one argument": "au plus une valeur est attendue",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s (possibles : %(matches)s)",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
}
argparse._ = lambda text: _FR.get(text, text)  # French argparse messages
argparse.ngettext = lambda s, p, n: _FR.get(s if n == 1 else p, s if n == 1 else p)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"Erreur : {message}\n")


def _home(p: argparse.ArgumentParser, demo: bool = False) -> None:
    fallback = "./ptce-demo" if demo else "le dossier courant"
    p.add_argument(
        "--home",
        metavar="DOSSIER",
        help=f"dossier de l'installation (sinon PTCE_HOME, sinon {fallback})",
    )


def _year(text: str) -> int:
    if not text.isdigit() or len(text) != 4:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas une année (4 chiffres)")
    return int(text)


def _pole(text: str) -> str:
    if not re.fullmatch(r"PTCE-[0-9]{3,}", text):
        raise argparse.ArgumentTypeError(
            f"« {text} » n'est pas un identifiant de pôle (PTCE- suivi d'au moins trois chiffres)"
        )
    return text


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas une date AAAA-MM-JJ") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ptce",
        description="Pipeline national de suivi des pôles territoriaux de coopération économique (PTCE) : "
        "dépôt des classeurs, validation, entrepôt DuckDB et tableaux nationaux.",
        epilog="Codes de sortie : 0 terminé ; 1 terminé mais quelque chose demande votre attention ; "
        "2 impossible de lancer (usage, configuration, dossier) ; 3 une autre exécution tient l'entrepôt.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"ptce-pipeline {__version__}",
        help="affiche la version et quitte",
    )
    sub = parser.add_subparsers(
        dest="verb", metavar="COMMANDE", title="commandes", parser_class=_Parser
    )

    p = sub.add_parser(
        "init", help="crée ou complète l'installation (registre, dossiers de dépôt, entrepôt)"
    )
    _home(p)

    p = sub.add_parser("template", help="écrit le modèle de classeur à remplir par un pôle")
    p.add_argument("-o", "--output", required=True, metavar="FICHIER.xlsx", help="fichier à écrire")
    p.add_argument(
        "--pole", metavar="ID", help="pré-remplit l'identité de ce pôle (depuis poles.csv)"
    )
    p.add_argument("--period", type=_year, metavar="ANNÉE", help="pré-remplit la période")
    p.add_argument(
        "--prefill",
        action="store_true",
        help="pré-remplit aussi la déclaration en vigueur du pôle pour la dernière période "
        "antérieure (identité, contact, membres, critères ; valeurs de référence des "
        "indicateurs) ; avec --pole et --period",
    )
    _home(p)

    p = sub.add_parser("check", help="contrôle des classeurs sans rien charger")
    p.add_argument(
        "files", nargs="+", metavar="FICHIER", help="classeurs à contrôler (.xlsx, .ods)"
    )
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.add_argument(
        "--annotate",
        metavar="SORTIE",
        help="écrit la copie annotée (fichier, ou dossier si plusieurs)",
    )
    p.add_argument(
        "--pole",
        metavar="ID",
        help="contrôle comme si le fichier avait été déposé dans le dossier de ce pôle",
    )
    _home(p)

    for verb, text in (
        ("ingest", "intègre les classeurs déposés (via Prefect)"),
        ("run", "intègre les classeurs puis publie les tableaux (via Prefect)"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument(
            "--settle",
            type=float,
            metavar="SECONDES",
            help="délai de stabilité d'un fichier avant sa prise en charge (défaut 30)",
        )
        if verb == "run":
            p.add_argument(
                "--period", type=_year, action="append", metavar="ANNÉE", help="période à publier"
            )
        p.add_argument("--json", action="store_true", help="rapport JSON")
        _home(p)

    p = sub.add_parser(
        "publish", help="publie les tableaux nationaux des périodes modifiées (via Prefect)"
    )
    p.add_argument(
        "--period",
        type=_year,
        action="append",
        metavar="ANNÉE",
        help="période à publier (répétable) ; sinon les périodes dont les données ont changé",
    )
    _home(p)

    p = sub.add_parser(
        "demo", help="démonstration complète sur des données fictives (18 pôles, deux campagnes)"
    )
    p.add_argument(
        "--seed", type=int, default=2012, help="graine des données générées (défaut 2012)"
    )
    _home(p, demo=True)

    p = sub.add_parser(
        "serve", help="planifie l'ingestion et la publication (serveur Prefect local)"
    )
    p.add_argument(
        "--ingest-cron",
        default="*/15 * * * *",
        metavar="CRON",
        help="défaut : toutes les 15 minutes",
    )
    p.add_argument(
        "--publish-cron", default="0 6 * * *", metavar="CRON", help="défaut : chaque jour à 6 h"
    )
    p.add_argument(
        "--settle", type=float, metavar="SECONDES", help="délai de stabilité (défaut 30)"
    )
    p.add_argument(
        "--port", type=int, default=4200, help="port du serveur Prefect local (défaut 4200)"
    )
    p.add_argument(
        "--portal", action="store_true", help="sert aussi le portail des pôles (ptce portal)"
    )
    p.add_argument(
        "--portal-host", default="127.0.0.1", help="adresse d'écoute du portail (défaut 127.0.0.1)"
    )
    p.add_argument("--portal-port", type=int, default=8000, help="port du portail (défaut 8000)")
    # testing only: an interval schedule in seconds instead of --ingest-cron
    p.add_argument("--ingest-interval", type=float, help=argparse.SUPPRESS)
    _home(p)

    p = sub.add_parser(
        "remind",
        help="relance les pôles dont la déclaration est attendue, envoie la synthèse "
        "hebdomadaire et les courriels en attente (comme le flux planifié remind-poles)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="affiche les courriels qui partiraient, sans rien envoyer ni noter",
    )
    p.add_argument("--json", action="store_true", help="sortie JSON")
    _home(p)

    p = sub.add_parser(
        "status", help="complétude d'une période (depuis l'instantané des analystes)"
    )
    p.add_argument(
        "--period", type=_year, metavar="ANNÉE", help="période (défaut : la plus récente)"
    )
    p.add_argument("--json", action="store_true", help="sortie JSON")
    _home(p)

    p = sub.add_parser(
        "withdraw", help="retire un dépôt (la version précédente redevient en vigueur)"
    )
    p.add_argument("submission", type=int, metavar="DÉPÔT", help="numéro de dépôt (submission_id)")
    p.add_argument(
        "--reason", required=True, metavar="MOTIF", help="motif, conservé dans le journal d'audit"
    )
    p.add_argument("--by", metavar="NOM", help="auteur (défaut : l'utilisateur du système)")
    _home(p)

    p = sub.add_parser(
        "reprocess", help="valide de nouveau des fichiers archivés et applique le résultat"
    )
    p.add_argument("submission", type=int, nargs="?", metavar="DÉPÔT", help="numéro de dépôt")
    p.add_argument("--pole", metavar="ID", help="tous les dépôts de ce pôle (avec --period)")
    p.add_argument("--period", type=_year, metavar="ANNÉE", help="période (avec --pole)")
    p.add_argument(
        "--in-error", action="store_true", help="tous les dépôts en erreur ou en attente"
    )
    p.add_argument(
        "--reason", default="retraitement", metavar="MOTIF", help="motif (journal d'audit)"
    )
    p.add_argument("--by", metavar="NOM", help="auteur (défaut : l'utilisateur du système)")
    _home(p)

    p = sub.add_parser("campaign", help="prépare, clôt ou rouvre une campagne")
    csub = p.add_subparsers(dest="action", metavar="ACTION", title="actions", parser_class=_Parser)
    for action, text in (
        ("close", "clôt la campagne : les nouveaux fichiers sont validés mais retenus"),
        ("reopen", "rouvre la campagne : les fichiers retenus sont appliqués"),
    ):
        cp = csub.add_parser(action, help=text)
        cp.add_argument("period", type=_year, metavar="ANNÉE")
        cp.add_argument("--reason", metavar="MOTIF", help="motif (journal d'audit)")
        cp.add_argument("--by", metavar="NOM", help="auteur (défaut : l'utilisateur du système)")
        if action == "close":
            cp.add_argument(
                "--keep-unreviewed",
                action="store_true",
                help="garde dans les chiffres définitifs les déclarations encore à relire "
                "(défaut : seules les déclarations validées comptent ; celles à corriger sont "
                "toujours exclues)",
            )
        _home(cp)
    cp = csub.add_parser(
        "prepare",
        help="prépare la campagne : sa ligne dans campagnes.csv et un classeur pré-rempli par "
        "pôle attendu, dans son dossier retours/",
    )
    cp.add_argument("period", type=_year, metavar="ANNÉE")
    cp.add_argument(
        "--deadline",
        type=_date,
        metavar="DATE",
        help="date limite (AAAA-MM-JJ) si la période n'a pas encore de ligne dans campagnes.csv "
        "(défaut : le 31 mars suivant)",
    )
    _home(cp)

    p = sub.add_parser("review", help="relecture nationale des déclarations acceptées")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", title="actions", parser_class=_Parser)
    rp = rsub.add_parser("list", help="les déclarations en vigueur et leur état de relecture")
    rp.add_argument("--period", type=_year, metavar="ANNÉE", help="une période seulement")
    rp.add_argument(
        "--state",
        choices=("a_revoir", "validee", "a_corriger"),
        help="un état seulement (a_revoir : à relire, validee : validée, a_corriger : à corriger)",
    )
    rp.add_argument("--json", action="store_true", help="sortie JSON")
    _home(rp)
    rp = rsub.add_parser(
        "show",
        help="un dépôt : ce qui a changé (cellule par cellule) depuis le dépôt précédent et "
        "depuis la période précédente, ses avertissements avec le commentaire du pôle, son "
        "historique",
    )
    rp.add_argument("submission", type=int, metavar="DÉPÔT", help="numéro de dépôt")
    rp.add_argument("--json", action="store_true", help="sortie JSON")
    _home(rp)
    rp = rsub.add_parser("approve", help="valide une ou plusieurs déclarations (elles font foi)")
    rp.add_argument("submissions", type=int, nargs="+", metavar="DÉPÔT", help="numéros de dépôt")
    rp.add_argument("--comment", metavar="TEXTE", help="message facultatif au pôle")
    rp.add_argument(
        "--by", metavar="NOM", help="auteur (défaut : PTCE_USER, sinon l'utilisateur du système)"
    )
    _home(rp)
    rp = rsub.add_parser(
        "send-back", help="renvoie une ou plusieurs déclarations au pôle, avec un commentaire"
    )
    rp.add_argument("submissions", type=int, nargs="+", metavar="DÉPÔT", help="numéros de dépôt")
    rp.add_argument(
        "--comment",
        required=True,
        metavar="TEXTE",
        help="ce que le pôle doit corriger (cité dans son avis et sur son espace)",
    )
    rp.add_argument(
        "--by", metavar="NOM", help="auteur (défaut : PTCE_USER, sinon l'utilisateur du système)"
    )
    _home(rp)

    p = sub.add_parser(
        "portal", help="portail web des pôles (dépôt, suivi, reçus) et de l'équipe nationale"
    )
    p.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port d'écoute (défaut 8000)")
    p.add_argument(
        "--proxies",
        default="127.0.0.1",
        metavar="ADRESSES",
        help="mandataires dont les en-têtes X-Forwarded-* sont crus (défaut 127.0.0.1)",
    )
    _home(p)

    p = sub.add_parser("access", help="liens personnels d'accès au portail des pôles")
    asub = p.add_subparsers(dest="action", metavar="ACTION", title="actions", parser_class=_Parser)
    ap = asub.add_parser("create", help="crée un lien personnel pour un pôle ou l'équipe nationale")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("pole", nargs="?", type=_pole, metavar="PÔLE", help="identifiant du pôle")
    who.add_argument(
        "--national-team", action="store_true", help="lien pour l'équipe nationale (tous les pôles)"
    )
    ap.add_argument(
        "--expires",
        type=_date,
        metavar="AAAA-MM-JJ",
        help="dernier jour de validité (défaut : un an)",
    )
    ap.add_argument("--label", metavar="TEXTE", help="à qui est ce lien (« Mme X, coordinatrice »)")
    ap.add_argument("--by", metavar="NOM", help="auteur (défaut : l'utilisateur du système)")
    ap.add_argument("--json", action="store_true", help="sortie JSON")
    _home(ap)
    ap = asub.add_parser("list", help="liste les liens (jamais leur jeton)")
    ap.add_argument("--pole", type=_pole, metavar="PÔLE", help="les liens de ce pôle seulement")
    ap.add_argument("--json", action="store_true", help="sortie JSON")
    _home(ap)
    ap = asub.add_parser(
        "revoke", help="révoque des liens : ils cessent aussitôt d'ouvrir l'espace"
    )
    ap.add_argument("access_id", type=int, nargs="*", metavar="N", help="numéro du lien")
    ap.add_argument("--pole", type=_pole, metavar="PÔLE", help="tous les liens actifs de ce pôle")
    ap.add_argument("--by", metavar="NOM", help="auteur (défaut : l'utilisateur du système)")
    _home(ap)

    p = sub.add_parser("rebuild", help="reconstruit l'entrepôt depuis l'archive et son journal")
    p.add_argument(
        "--to",
        metavar="DOSSIER",
        help="écrit DOSSIER/ptce.duckdb au lieu de remplacer l'entrepôt vivant",
    )
    _home(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.verb:
            parser.print_help()
            return 2
    except BrokenPipeError:  # `ptce --help | head`: the reader left (see `output`)
        from ptce_pipeline.cli.output import drop_closed

        drop_closed(sys.stdout)
        return 0
    if args.verb in ("campaign", "access", "review") and not getattr(args, "action", None):
        parser.parse_args([args.verb, "--help"])
        return 2
    if args.verb == "access" and args.action == "revoke" and not (args.access_id or args.pole):
        parser.parse_args(["access", "revoke", "--help"])
        return 2
    from ptce_pipeline.cli import verbs

    if args.verb in ("access", "portal"):
        from ptce_pipeline.cli import access

        return verbs.dispatch(args, getattr(access, f"cmd_{args.verb}"))
    if args.verb == "review":
        from ptce_pipeline.cli import review

        return verbs.dispatch(args, review.cmd_review)
    return verbs.dispatch(args)


def entry() -> None:  # pragma: no cover - console script wrapper
    """`ptce`: `main`, and a last flush of stdout here, where a reader that left (`| head`)
    is caught, rather than in the interpreter's shutdown (« Exception ignored … »)."""
    try:
        try:
            code = main()
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        from ptce_pipeline.cli.output import drop_closed

        drop_closed(sys.stdout)
        code = 0
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    entry()
