"""The national team's contact details, set once for the home in `contact.toml` (issue 17,
item 6): read into the run's configuration, checked with a French error naming the file, the
line and the key, and the référentiel's contact when the file is absent."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.procs import env_for, harness_url
from helpers.workbooks import make_home

from ptce_pipeline.catalogue import Contact, load_config, load_contact
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.template.demo import DEMO_CONTACT

GOOD = """\
# l'équipe nationale
organisation = "Équipe nationale d'animation des PTCE"
service = "cellule de suivi"
courriel = "suivi-ptce@example.org"
telephone = "+33 1 23 45 67 89"
adresse = \"\"\"
1 rue de l'Exemple
75000 Paris
\"\"\"
site_web = "https://www.example.org/ptce"
horaires = "du lundi au vendredi, de 9 h à 17 h"
"""

# case → (the line that replaces the key's line in GOOD, its line number, what the message says)
MISTAKES = {
    "courriel sans @": (
        'courriel = "suivi-ptce.example.org"',
        "ligne 4, « courriel »",
        "une adresse électronique comme prenom.nom@exemple.fr est attendu, "
        "trouvé « suivi-ptce.example.org »",
    ),
    "téléphone en lettres": (
        'telephone = "zéro un vingt-trois"',
        "ligne 5, « telephone »",
        "un numéro de téléphone",
    ),
    "téléphone sans guillemets": (
        "telephone = 123456789",
        "ligne 5, « telephone »",
        "un texte entre guillemets est attendu, trouvé « 123456789 »",
    ),
    "site sans https": (
        'site_web = "javascript:alert(1)"',
        "ligne 10, « site_web »",
        "une adresse web complète commençant par https:// est attendu",
    ),
    "clé mal orthographiée": (
        'courriel = "suivi-ptce@example.org"\nmail = "x@example.org"',
        "ligne 5, « mail »",
        "clé inconnue (clés possibles : organisation, service, courriel, telephone, adresse, "
        "site_web, horaires)",
    ),
    "retour à la ligne dans le service": (
        'service = "cellule\\nde suivi"',
        "ligne 3, « service »",
        "caractère de contrôle ou invisible U+000A interdit (un seul texte sur une ligne)",
    ),
    "caractère bidi dans l'organisation": (
        'organisation = "Équipe \\u202enationale"',
        "ligne 2, « organisation »",
        "caractère de contrôle ou invisible U+202E interdit",
    ),
    "horaires trop longs": (
        f'horaires = "{"de 9 h à 17 h " * 20}"',
        "ligne 11, « horaires »",
        "200 caractères au plus",
    ),
}


def _broken(name: str) -> str:
    line = MISTAKES[name][0]
    key = line.split(" =")[0]
    return "\n".join(line if ln.startswith(f"{key} =") else ln for ln in GOOD.splitlines())


def test_absent_file_gives_the_referentiels_contact(tmp_path, ref):
    contact = load_contact(tmp_path / "contact.toml", ref.contact)
    assert contact == Contact(organisation=ref.contact)
    assert contact.who == ref.contact and contact.details() == []
    settings = make_home(tmp_path / "home")
    assert load_config(settings).contact == Contact(organisation=ref.contact)


def test_the_file_is_read_into_the_runs_configuration(tmp_path, ref):
    settings = make_home(tmp_path / "home")
    settings.contact_path.write_text(GOOD, encoding="utf-8")
    contact = load_config(settings).contact
    assert contact.who == "Équipe nationale d'animation des PTCE, cellule de suivi"
    assert contact.details() == [
        ("courriel", "Courriel", "suivi-ptce@example.org"),
        ("telephone", "Téléphone", "+33 1 23 45 67 89"),
        ("adresse", "Adresse postale", "1 rue de l'Exemple\n75000 Paris"),
        ("site_web", "Site web", "https://www.example.org/ptce"),
        ("horaires", "Horaires", "du lundi au vendredi, de 9 h à 17 h"),
    ]


def test_every_line_is_optional(tmp_path, ref):
    path = tmp_path / "contact.toml"
    path.write_text('telephone = "01 23 45 67 89"\nservice = ""\n', encoding="utf-8")
    assert load_contact(path, ref.contact) == Contact(ref.contact, telephone="01 23 45 67 89")


def test_the_demos_example_is_valid(tmp_path, ref):
    path = tmp_path / "contact.toml"
    path.write_text(DEMO_CONTACT, encoding="utf-8")
    assert len(load_contact(path, ref.contact).details()) == 5


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_named_with_its_file_line_and_key(tmp_path, ref, name):
    path = tmp_path / "contact.toml"
    path.write_text(_broken(name), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_contact(path, ref.contact)
    _, place, words = MISTAKES[name]
    assert str(caught.value).startswith(f"{path}, {place} : "), caught.value
    assert words in str(caught.value)


def test_unreadable_toml_and_encoding_are_named(tmp_path, ref):
    path = tmp_path / "contact.toml"
    path.write_text('courriel = "suivi@example.org\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"contact\.toml est illisible : .*line 1"):
        load_contact(path, ref.contact)
    path.write_bytes('service = "cellule"'.encode("latin-1") + b"\xe9")
    with pytest.raises(ConfigError, match=r"contact\.toml doit être enregistré en UTF-8"):
        load_contact(path, ref.contact)


def test_template_verb_stops_on_a_malformed_file(tmp_path):
    settings = make_home(tmp_path / "home")
    settings.contact_path.write_text(_broken("courriel sans @"), encoding="utf-8")
    out = tmp_path / "modele.xlsx"
    res = subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", "template", "-o", str(out),
         "--home", str(settings.home)],
        capture_output=True, text=True, timeout=120, env=env_for(settings, api_url=None),
    )  # fmt: skip
    assert res.returncode == 2, res
    assert res.stderr.startswith(f"Erreur : {settings.contact_path}, ligne 4, « courriel » : ")
    assert not out.exists()


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_stops_before_claiming_anything(tmp_path, make_workbook):
    settings = make_home(tmp_path / "home")
    settings.contact_path.write_text(_broken("site sans https"), encoding="utf-8")
    dropped = settings.inbox / "PTCE-003" / "suivi.xlsx"
    dropped.parent.mkdir(parents=True)
    dropped.write_bytes(make_workbook("PTCE-003", 2024))
    res = subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", "ingest", "--home",
         str(settings.home), "--settle", "0"],
        capture_output=True, text=True, timeout=300,
        env=env_for(settings, api_url=harness_url()),
    )  # fmt: skip
    assert res.returncode == 2, res
    assert res.stderr.startswith(f"Erreur : {settings.contact_path}, ligne 10, « site_web » : ")
    assert dropped.exists()
    assert not settings.journal_path.exists() or settings.journal_path.stat().st_size == 0
