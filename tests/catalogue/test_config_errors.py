"""The national team's own configuration is checked when it is loaded (issue 15): a mistake in
`referentiel.toml`, `poles.csv` or `campagnes.csv` stops the run before anything is claimed,
with one French message naming the file, the table path (or the CSV line) and, where the file
gives it, the line — never a pole's valid file refused, never a raw DuckDB error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import tally
from helpers.procs import env_for, harness_url
from helpers.workbooks import make_home

from ptce_pipeline.catalogue import load_config, referentiel_bytes
from ptce_pipeline.errors import ConfigError

PACKAGED = referentiel_bytes().decode("utf-8")


def at(anchor: str, below: int = 0) -> str:
    """« ligne N » of the first occurrence of `anchor` in the packaged référentiel (+ `below`
    lines): the expectations follow the file when lines are added above."""
    return f"ligne {PACKAGED[: PACKAGED.index(anchor)].count(chr(10)) + 1 + below}"


# case → (old text, new text, what the message must say); the first occurrence is changed
REFERENTIEL = {
    "minimum au-dessus du maximum": (
        "max = 5000\n",
        "max = 5000\nmin = 9000\n",
        [
            at("max = 5000\n", 1),
            "indicateurs[1].min (IND01)",
            "le minimum (9000) dépasse le maximum (5000)",
        ],
    ),
    "borne écrite comme un texte": (
        "max = 5000\n",
        'max = "5000"\n',
        [
            at("max = 5000\n"),
            "indicateurs[1].max (IND01)",
            'un nombre (sans guillemets) est attendu, trouvé « "5000" »',
        ],
    ),
    "code d'indicateur écrit comme un nombre": (
        'code = "IND01"',
        "code = 1",
        [
            at('code = "IND01"'),
            "indicateurs[1].code",
            "un texte non vide entre guillemets est attendu",
        ],
    ),
    "code de liste écrit comme un nombre": (
        '{ code = "oui"',
        "{ code = 1",
        ["listes.reponses_criteres.values[1].code", "un texte non vide"],
    ),
    "code d'indicateur en double": (
        'code = "IND02"',
        'code = "IND01"',
        ["indicateurs[2]", "l'indicateur « IND01 » est déjà défini(e) (indicateurs[1])"],
    ),
    "code de liste en double": (
        '{ code = "non"',
        '{ code = "oui"',
        ["listes.reponses_criteres.values[2]", "le code « oui » est déjà défini(e)"],
    ),
    "indicateur visant un objectif inconnu": (
        'objectif = "OP1"',
        'objectif = "OP99"',
        [at('objectif = "OP1"'), "indicateurs[1].objectif (IND01)", "objectif inconnu « OP99 »"],
    ),
    "type d'indicateur inconnu": (
        'kind = "count"\nmax = 5000',
        'kind = "compte"\nmax = 5000',
        [
            at('kind = "count"\nmax = 5000'),
            "indicateurs[1].kind (IND01)",
            "type d'indicateur inconnu « compte »",
        ],
    ),
    "libellé vide": (
        'label = "Communes couvertes par l\'action du pôle"',
        'label = ""',
        [at('label = "Communes couvertes'), "indicateurs[1].label (IND01)", "un texte non vide"],
    ),
    "booléen écrit comme un texte": (
        "required = true",
        'required = "oui"',
        [at("required = true"), "indicateurs[1].required (IND01)", "true ou false est attendu"],
    ),
    "largeur négative": (
        "width = 40",
        "width = -1",
        [at("width = 40"), "membres[1].width (nom)", "un nombre entier positif"],
    ),
    "liste inconnue": (
        'liste = "formes_juridiques"',
        'liste = "formes"',
        [at('liste = "formes_juridiques"'), ".liste", "liste inconnue « formes »"],
    ),
    "liste obligatoire absente": (
        "[listes.reponses_criteres]",
        "[listes.reponses]",
        ["la liste « reponses_criteres » est obligatoire"],
    ),
    "syntaxe TOML cassée": (
        "[meta]\n",
        "[meta]\nversion 2026\n",
        ["illisible", "line 14"],
    ),
}

REGISTRY = {
    "identifiant de pôle invalide": ("poles.csv", "PTCE-001,", "PTCE-1,", ["ligne 2", "PTCE-1"]),
    "pôle inscrit deux fois": ("poles.csv", "PTCE-002,", "PTCE-001,", ["ligne 3", "déjà inscrit"]),
    "nom de pôle vide": ("poles.csv", None, "PTCE-900,,59,2020,\n", ["nom du pôle PTCE-900 est vide"]),
    "département inconnu": ("poles.csv", None, "PTCE-900,Pôle X,99,2020,\n", ["département « 99 »"]),
    "année invalide": ("poles.csv", None, "PTCE-900,Pôle X,59,20x0,\n", ["premiere_periode"]),
    "période de campagne en double": (
        "campagnes.csv", None, "2024,2099-06-30\n", ["ligne 4", "période 2024 a déjà une date"]
    ),
    "date limite invalide": ("campagnes.csv", None, "2026,31/03/2027\n", ["ligne 4", "date ISO"]),
    "date limite vide": ("campagnes.csv", None, "2026,\n", ["ligne 4", "date_limite"]),
}  # fmt: skip


def _home(tmp_path, name: str):
    root = tmp_path / "home"
    root.mkdir()
    if name in REFERENTIEL:  # the home's own référentiel, written before the settings see it
        old, new, _ = REFERENTIEL[name]
        assert old in PACKAGED, old
        (root / "referentiel.toml").write_text(PACKAGED.replace(old, new, 1), encoding="utf-8")
    settings = make_home(root)
    if name in REGISTRY:
        file, old, new, _ = REGISTRY[name]
        path = settings.home / file
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(old, new, 1) if old else text + new, encoding="utf-8")
    return settings


def _expected(name: str) -> tuple[str, list[str]]:
    if name in REFERENTIEL:
        return "referentiel.toml", REFERENTIEL[name][2]
    return REGISTRY[name][0], REGISTRY[name][3]


@pytest.mark.parametrize("name", [*REFERENTIEL, *REGISTRY])
def test_each_mistake_is_named_with_its_file_and_place(tmp_path, name):
    settings = _home(tmp_path, name)
    file, words = _expected(name)
    with pytest.raises(ConfigError) as caught:
        load_config(settings)
    message = str(caught.value)
    held = str(settings.home / file) in message and all(w in message for w in words)
    tally.case("configuration", name, held)
    assert str(settings.home / file) in message, message
    for w in words:
        assert w in message, message


@pytest.mark.parametrize(
    "name", ["minimum au-dessus du maximum", "code de liste écrit comme un nombre",
             "période de campagne en double", "pôle inscrit deux fois"],
)  # fmt: skip
@pytest.mark.usefixtures("prefect_harness")
def test_ingest_stops_before_claiming_anything(tmp_path, make_workbook, name):
    """`ptce ingest`: exit 2, one French `Erreur : …` line, the pole's valid file untouched
    in its inbox, nothing archived or journaled."""
    settings = _home(tmp_path, name)
    folder = settings.inbox / "PTCE-003"
    folder.mkdir(parents=True)
    (folder / "suivi.xlsx").write_bytes(make_workbook("PTCE-003", 2024))
    before = sorted(p.relative_to(settings.home) for p in settings.inbox.rglob("*"))
    res = subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", "ingest", "--home",
         str(settings.home), "--settle", "0"],
        capture_output=True, text=True, timeout=300,
        env=env_for(settings, api_url=harness_url()),
    )  # fmt: skip
    file, words = _expected(name)
    after = sorted(p.relative_to(settings.home) for p in settings.inbox.rglob("*"))
    errors = res.stderr.strip().splitlines()
    assert res.returncode == 2, res
    assert res.stdout == "" and len(errors) == 1 and errors[0].startswith("Erreur : "), res
    assert str(settings.home / file) in errors[0] and all(w in errors[0] for w in words)
    assert after == before
    assert not settings.archive_dir.exists() or not any(settings.archive_dir.iterdir())
    assert not settings.journal_path.exists() or settings.journal_path.stat().st_size == 0
